"""The flight recorder's file: every captured message (topic, payload bytes, QoS,
retain, MQTT 5 properties, arrival time) in an append-only file that is written in
batches, read as a stream, and survives a crash mid-write. docs/recording.md has the
format byte by byte; in short:

* a 10-byte magic (``\\x89mqrec\\r\\n\\x1a\\n``, so a file mangled as text is told
  apart) and a 2-byte big-endian version;
* frames: a 4-byte length, the CRC-32 of the body, the body (MessagePack). The first
  frame is the header (a map), every later one an array of messages, each message an
  array in :class:`~mqchat.core.message.Message`'s field order.

A frame cut short by a crash is the end of the recording (:attr:`Reading.note` says
so); bytes are stored as MessagePack ``bin``, so payloads come back exactly."""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from mqchat import __version__
from mqchat.config.private_files import make_private_dirs
from mqchat.core.message import Message

__all__ = [
    "MAGIC",
    "SUFFIX",
    "VERSION",
    "Reading",
    "RecordingError",
    "RecordingWriter",
    "create_file",
    "open_recording",
    "read_all",
]

MAGIC = b"\x89mqrec\r\n\x1a\n"
VERSION = 1
SUFFIX = ".mqrec"
_FRAME = struct.Struct(">II")  # body length, CRC-32 of the body
_MAX_FRAME = 64 * 1024 * 1024
"""A larger length is damage, not a frame: a writer never makes one (it cuts batches)."""
_FIELDS = ("topic", "payload", "qos", "retain", "properties", "ts", "size")
assert Message._fields == _FIELDS, "the recording stores messages in this order"


class RecordingError(Exception):
    """The file is not a recording mqchat can read; the text says why in one line."""


def _frame(body: bytes) -> bytes:
    return _FRAME.pack(len(body), zlib.crc32(body)) + body


class RecordingWriter:
    """Writes a recording to ``stream`` (a buffered binary file): the magic, the
    version and ``header`` at once, then one frame per :meth:`write`. Nothing is
    flushed by itself; the caller flushes when it is idle, so a crash loses at most
    what was not flushed and never makes the earlier frames unreadable."""

    def __init__(self, stream: BinaryIO, header: Mapping[str, Any]) -> None:
        self._stream = stream
        self._packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")
        head = {"created": time.time(), "writer": f"mqchat {__version__}", **header}
        stream.write(MAGIC + VERSION.to_bytes(2, "big") + _frame(self._packer.pack(head)))
        self.messages = 0
        self.bytes = stream.tell() if stream.seekable() else 0

    def write(self, messages: Sequence[Message]) -> None:
        """One frame of ``messages`` (Messages are tuples: packed as they are)."""
        if not messages:
            return
        data = _frame(self._packer.pack(messages))
        self._stream.write(data)
        self.messages += len(messages)
        self.bytes += len(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


@dataclass(slots=True)
class Reading:
    """A recording being read: its ``header``; :meth:`messages` yields the messages
    frame by frame. ``note`` tells, once reading has ended, that the end was cut
    short or damaged (the messages before it were all read)."""

    path: Path
    header: dict[str, Any]
    _stream: BinaryIO
    note: str | None = None
    frames: int = field(default=0)

    def messages(self) -> Iterator[Message]:
        try:
            while True:
                batch = self._next_frame()
                if batch is None:
                    return
                self.frames += 1
                yield from batch
        finally:
            self._stream.close()

    def close(self) -> None:
        self._stream.close()

    def _next_frame(self) -> list[Message] | None:
        stream = self._stream
        offset = stream.tell()
        head = stream.read(_FRAME.size)
        if not head:
            return None
        if len(head) < _FRAME.size:
            self._cut(offset)
            return None
        length, crc = _FRAME.unpack(head)
        if length > _MAX_FRAME:
            self._damaged(offset)
            return None
        body = stream.read(length)
        if len(body) < length:
            self._cut(offset)
            return None
        if zlib.crc32(body) != crc:
            self._damaged(offset)
            return None
        try:
            return [_message(item) for item in _unpack(body)]
        except (ValueError, TypeError, msgpack.UnpackException):
            self._damaged(offset)
            return None

    def _cut(self, offset: int) -> None:
        self.note = (
            f"{self.path.name}: the last frame (from byte {offset:,}) was cut short, "
            "as a crash while recording leaves it; it was ignored"
        )

    def _damaged(self, offset: int) -> None:
        self.note = f"{self.path.name}: damaged at byte {offset:,}; what follows was ignored"


def _unpack(body: bytes) -> Any:
    return msgpack.unpackb(body, raw=False, unicode_errors="surrogateescape", strict_map_key=True)


def _message(item: Any) -> Message:
    """One stored message, checked: a damaged or hostile file never gives the inspector
    a value of another type than a live connection would."""
    if not isinstance(item, list) or len(item) != len(_FIELDS):
        raise ValueError("not a message")
    topic, payload, qos, retain, props, ts, size = item
    if not (isinstance(topic, str) and isinstance(payload, bytes)):
        raise ValueError("topic or payload")
    if qos not in (0, 1, 2) or not isinstance(retain, bool) or not isinstance(ts, float | int):
        raise ValueError("qos, retain or time")
    if size is not None and not isinstance(size, int):
        raise ValueError("size")
    if props is not None:
        if not isinstance(props, dict):
            raise ValueError("properties")
        pairs = props.get("UserProperty")
        if isinstance(pairs, list):
            props["UserProperty"] = [tuple(p) if isinstance(p, list) else p for p in pairs]
    return Message(topic, payload, qos, retain, props, float(ts), size)


def create_file(path: Path, buffering: int = 1024 * 1024) -> BinaryIO:
    """A new file for a recording (an existing one is never overwritten: raises
    ``FileExistsError``), 0600 from the start: a recording holds whatever the broker
    carried. Its folder is made if missing."""
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    return os.fdopen(fd, "wb", buffering=buffering)


def open_recording(path: Path) -> Reading:
    """Open ``path`` and read its header. Raises :class:`RecordingError` (one line)
    when it cannot be read or is not a recording of a version we know."""
    try:
        stream: BinaryIO = path.open("rb")
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        start = stream.read(len(MAGIC) + 2)
        if start[: len(MAGIC)] != MAGIC:
            raise RecordingError(f"{path} is not an mqchat recording (no recording header)")
        version = int.from_bytes(start[len(MAGIC) :], "big")
        if len(start) < len(MAGIC) + 2 or version != VERSION:
            raise RecordingError(
                f"{path} is a recording of format version {version}; this mqchat reads {VERSION}"
            )
        head = stream.read(_FRAME.size)
        length, crc = _FRAME.unpack(head) if len(head) == _FRAME.size else (0, 0)
        body = stream.read(length) if 0 < length <= _MAX_FRAME else b""
        if not body or len(body) < length or zlib.crc32(body) != crc:
            raise RecordingError(f"{path}: the recording's header is damaged or missing")
        try:
            header = _unpack(body)
        except (ValueError, TypeError, msgpack.UnpackException):
            header = None
        if not isinstance(header, dict):
            raise RecordingError(f"{path}: the recording's header is damaged")
    except BaseException:
        stream.close()
        raise
    return Reading(path, header, stream)


def read_all(path: Path) -> tuple[dict[str, Any], list[Message], str | None]:
    """The whole recording: header, messages, and the note on a cut or damaged end."""
    reading = open_recording(path)
    messages = list(reading.messages())
    return reading.header, messages, reading.note
