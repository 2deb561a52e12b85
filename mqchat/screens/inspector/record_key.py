"""The inspector's ``r``: the flight recorder on and off. While on, every batch the
screen takes from its feed is also handed to a :class:`~mqchat.inspector.recorder.Recorder`
(one queue put; the file is written on the recorder's thread), and the status line
shows ``● REC n msgs``. Recordings go to ``data_dir/recordings``, named by the time;
``mqchat inspect --open`` browses them, ``mqchat replay`` publishes them again. A base
of :class:`~mqchat.screens.inspector.screen.InspectorScreen`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from mqchat.core.message import Message
from mqchat.inspector.backend import InspectorBackend
from mqchat.inspector.recorder import Recorder, RecorderError
from mqchat.inspector.recording import SUFFIX
from mqchat.screens.inspector.watching import InspectorWatchScreen

__all__ = ["RECORD_TIP", "InspectorRecordScreen"]

RECORD_TIP = "Record every captured message to a file (again: stop)"


class InspectorRecordScreen(InspectorWatchScreen):
    """``r`` (its binding is the screen's, so it sits after Publish in the footer)
    and the recorder it starts and stops."""

    backend: InspectorBackend
    clock: Callable[[], float]
    recordings_dir: Path
    recorder: Recorder | None = None

    def record(self, batch: Sequence[Message]) -> None:
        """The hook in the screen's ingest: ``batch`` as it was taken."""
        recorder = self.recorder
        if recorder is not None:
            recorder.add(batch)
            if recorder.error is not None:
                self.notify(recorder.error, title="Recording", severity="error", markup=False)
                self.recorder = None
                self.run_worker(asyncio.to_thread(recorder.close), exit_on_error=False)

    @property
    def recording(self) -> int | None:
        """Messages recorded so far, ``None`` when not recording (the status line)."""
        return self.recorder.count if self.recorder is not None else None

    async def action_record(self) -> None:
        if self.recorder is not None:
            await self.stop_recording()
            return
        stamp = datetime.fromtimestamp(self.clock()).strftime("%Y%m%d-%H%M%S")
        path = self.recordings_dir / f"inspect-{stamp}{SUFFIX}"
        header = {
            "source": "mqchat inspect",
            "broker": self.backend.broker_label,
            "filters": list(self.backend.subscriptions),
        }
        try:
            self.recorder = Recorder(path, header)
        except RecorderError as exc:
            self.notify(str(exc), title="Recording", severity="error", markup=False)
            return
        self.notify(f"to {path} (r stops)", title="Recording", markup=False)
        self._show_status()

    async def stop_recording(self) -> None:
        """Write what is queued and close the file (off the UI's loop)."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        await asyncio.to_thread(recorder.close)
        self._show_status()
        if recorder.error is not None:
            self.notify(recorder.error, title="Recording", severity="error", markup=False)
        else:
            self.notify(
                f"{recorder.written:,} messages in {recorder.path} "
                f"(mqchat inspect --open, mqchat replay)",
                title="Recorded",
                markup=False,
            )
