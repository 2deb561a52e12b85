"""Captured messages as JSON Lines, for the inspector's export and ``mqchat sub
--json``: one object per message, the payload as text when it is UTF-8 and as base64
otherwise, so any payload round-trips."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mqchat.config.private_files import make_private_dirs, open_private
from mqchat.core.wire import format_ts
from mqchat.inspector.capture import Captured
from mqchat.inspector.payload import safe_json_dumps

__all__ = ["export_jsonl", "to_json_line", "to_json_lines", "to_record"]


def _iso(ts: float) -> str:
    try:
        return format_ts(datetime.fromtimestamp(ts, UTC))
    except (OverflowError, OSError, ValueError):  # a clock far outside datetime's range
        return format_ts(datetime.fromtimestamp(0, UTC))


def to_record(message: Captured) -> dict[str, Any]:
    """The JSON object of one message: ``topic``, ``ts`` (ISO 8601 UTC, ms), ``qos``,
    ``retain``, ``size`` (original bytes), ``encoding`` (``utf-8`` or ``base64``),
    ``payload``, then ``truncated: true`` when the capture kept only part of the
    payload and ``properties`` when the message had MQTT 5 properties."""
    try:
        payload, encoding = message.payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        payload, encoding = base64.b64encode(message.payload).decode("ascii"), "base64"
    record: dict[str, Any] = {
        "topic": message.topic,
        "ts": _iso(message.ts),
        "qos": message.qos,
        "retain": message.retain,
        "size": message.size,
        "encoding": encoding,
        "payload": payload,
    }
    if message.truncated:
        record["truncated"] = True
    if message.properties:
        record["properties"] = message.properties
    return record


def to_json_line(message: Captured) -> str:
    """One line of JSON (no newline at the end). Non-ASCII text stays readable;
    control characters and bidirectional overrides are escaped, so the line is safe
    to print on a terminal."""
    return safe_json_dumps(to_record(message))


def to_json_lines(messages: Iterable[Captured]) -> Iterator[str]:
    """``to_json_line`` for each message, each ending in a newline."""
    for message in messages:
        yield to_json_line(message) + "\n"


def export_jsonl(path: Path, messages: Iterable[Captured]) -> int:
    """Write ``messages`` as JSON Lines to ``path`` (its missing folders are made,
    0700); returns how many. The file is 0600: captured traffic is nobody else's.
    Blocking: the inspector runs it in a thread, it may be a few megabytes."""
    make_private_dirs(path.parent)
    count = 0
    with open_private(path, "w") as out:
        for line in to_json_lines(messages):
            out.write(line)
            count += 1
    return count
