"""The inspector's flight recorder: what the screen takes from its feed is recorded
to a file (:mod:`mqchat.inspector.recording`) without slowing the live view. The
screen hands over each batch it took, a list it already has, in one queue put; a
thread of the recorder's own packs each batch into one frame and writes it through a
buffered file, flushed whenever the queue runs dry, so a flood costs one write per
batch and a crash loses at most the batch being written."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mqchat.core.message import Message
from mqchat.inspector.recording import RecordingWriter, create_file

__all__ = ["Recorder", "RecorderError"]

log = logging.getLogger(__name__)

_BUFFER = 1024 * 1024


class RecorderError(Exception):
    """The recording could not be started; the text says why in one line."""


class Recorder:
    """Records to ``path`` (a new file: an existing one is never overwritten) with
    ``header``. :meth:`add` is for the UI's thread; everything else happens on the
    recorder's. ``error`` is set when writing failed (a full disk): recording stops
    there, what was written stays readable."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        try:
            stream = create_file(path, _BUFFER)
        except OSError as exc:
            raise RecorderError(f"cannot record to {path}: {exc.strerror or exc}") from None
        self._writer = RecordingWriter(stream, header)
        self.count = 0
        """Messages handed to the recorder (the "● REC n msgs" of the status line)."""
        self.error: str | None = None
        self._queue: queue.SimpleQueue[Sequence[Message] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mqchat-recorder", daemon=True)
        self._thread.start()

    @property
    def written(self) -> int:
        """Messages in the file so far."""
        return self._writer.messages

    @property
    def size(self) -> int:
        """Bytes in the file so far."""
        return self._writer.bytes

    def add(self, batch: Sequence[Message]) -> None:
        """Record ``batch`` (not copied: the caller must not change it afterwards)."""
        if batch and self.error is None:
            self.count += len(batch)
            self._queue.put(batch)

    def close(self) -> None:
        """Write what is queued, close the file and end the thread (blocks: call it
        off the UI's loop, e.g. ``asyncio.to_thread``)."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        writer, take = self._writer, self._queue.get
        try:
            while (batch := take()) is not None:
                if self.error is None:
                    writer.write(batch)
                    if self._queue.empty():
                        writer.flush()
        except OSError as exc:
            self.error = f"recording to {self.path} stopped: {exc.strerror or exc}"
            log.warning("%s", self.error)
            while take() is not None:
                pass  # the rest is not recorded; the UI hears of the error
        finally:
            try:
                writer.close()
            except OSError as exc:
                self.error = self.error or f"recording to {self.path}: {exc.strerror or exc}"
