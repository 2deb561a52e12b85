"""Recordings for tests, written with the real writer: a synthetic one whose arrival
times span five minutes (the scrubber's tests), and a helper for any messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from mqchat.core.message import Message
from mqchat.inspector.recording import RecordingWriter, create_file
from tests.support.fake_feed import T0

__all__ = ["FIVE_MINUTES", "HOSTILE_TOPIC", "five_minutes", "write_recording"]

HOSTILE_TOPIC = "plant/[bold red]evil[red] \x1b[31m"
FIVE_MINUTES = 300.0


def write_recording(
    path: Path, messages: Sequence[Message], *, frame: int = 50, header: dict | None = None
) -> Path:
    """``messages`` in frames of ``frame`` messages, as the recorder writes them."""
    with create_file(path) as stream:
        writer = RecordingWriter(stream, header or {"source": "test", "filters": ["plant/#"]})
        for i in range(0, len(messages), frame):
            writer.write(messages[i : i + frame])
    return path


def five_minutes(start: float = T0) -> list[Message]:
    """Three temperatures every 10 s for five minutes (``plant/line{1,2,3}/temp``, the
    value the minute), one alarm at 3:05 (``plant/alarm``), a hostile topic at 4:00."""
    messages = []
    for step in range(31):  # 0 s … 300 s
        for line in (1, 2, 3):
            value = {"line": line, "minute": step // 6, "temp": 20 + step / 10}
            payload = json.dumps(value).encode()
            ts = start + step * 10 + (line - 1) * 0.001
            messages.append(Message(f"plant/line{line}/temp", payload, 1, False, None, ts))
    props = {"ContentType": "application/json", "UserProperty": [("site", "north")]}
    alarm = Message("plant/alarm", b'{"alarm":"overheat"}', 2, True, props, start + 185.0)
    messages.append(alarm)
    messages.append(
        Message(HOSTILE_TOPIC, b"[link=x]\x1b]0;pwned\x07", 0, False, None, start + 240.0)
    )
    return sorted(messages, key=lambda m: m.ts)
