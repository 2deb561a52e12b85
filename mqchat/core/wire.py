"""What every protocol v1 payload shares: one UTF-8 JSON object read without
trusting it, timestamps at millisecond precision, and peer-chosen display names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_NAME_LENGTH",
    "EnvelopeError",
    "display_name",
    "dump_object",
    "format_ts",
    "load_object",
    "parse_ts",
    "to_millis",
]

MAX_NAME_LENGTH = 64
"""Display names longer than this (in presence or a friend request) are cut."""


class EnvelopeError(ValueError):
    """Why an inbound payload was refused, in words fit for a log line."""


def format_ts(ts: datetime) -> str:
    """``2026-11-22T04:00:00.123Z``: UTC, millisecond precision."""
    ts = ts.astimezone(UTC)
    # The year by hand: strftime does not pad years before 1000 on every platform.
    return f"{ts.year:04d}-" + ts.strftime("%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def to_millis(ts: datetime) -> datetime:
    """The precision of the wire (and of the store), so a sent message equals itself
    once read back."""
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def parse_ts(value: object) -> datetime:
    """A peer's ``ts`` as an aware UTC datetime (a naive one is taken as UTC).
    Raises :class:`EnvelopeError`."""
    if not isinstance(value, str) or len(value) > 40:
        raise EnvelopeError("'ts' is not a timestamp string")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EnvelopeError(f"'ts' is not an ISO 8601 timestamp: {value[:40]!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise EnvelopeError(f"'ts' is out of range: {value[:40]!r}") from None


def load_object(data: bytes, max_size: int) -> dict[str, Any]:
    """The JSON object in ``data``, checked for size, UTF-8, JSON and Unicode before
    any field is read. Raises :class:`EnvelopeError`."""
    if len(data) > max_size:
        raise EnvelopeError(f"payload of {len(data)} bytes exceeds the {max_size}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError("payload is not valid UTF-8") from None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise EnvelopeError("payload is not valid JSON") from None
    if not isinstance(obj, dict):
        raise EnvelopeError("payload is not a JSON object")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(obj):
        raise EnvelopeError("payload has a lone surrogate escape: not valid Unicode")
    return obj


def dump_object(obj: dict[str, Any]) -> bytes:
    """The compact UTF-8 JSON every mqchat payload is sent as."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


# json.loads turns an unpaired "\ud800" escape into a str that cannot be encoded
# again: storing it, sending it or writing it to the terminal would raise.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(obj: object) -> bool:
    pending = [obj]  # a loop, not recursion: the nesting may be deep
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def display_name(value: object) -> str | None:
    """A peer-chosen display name: kept only if it is a non-blank string, and cut to
    :data:`MAX_NAME_LENGTH` (it is made safe for the terminal when shown)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_NAME_LENGTH]
