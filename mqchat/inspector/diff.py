"""What changed from a topic's previous message to this one, for the detail pane's
diff view (``d``): JSON documents compared value by value along their key paths
(changed, added, removed), text line by line (``difflib``), anything else as the
byte ranges that differ. Pure and bounded: hostile payloads (any bytes, any depth,
any size) give a bounded list of lines, never an exception; every text in it is
terminal-safe (``display_safe``, ``safe_json_dumps``)."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mqchat.core.text import display_safe
from mqchat.inspector.payload import PayloadKind, detect, safe_json_dumps

__all__ = [
    "DIFF_LIMIT",
    "MAX_LINES",
    "DiffLine",
    "PayloadDiff",
    "Sign",
    "payload_diff",
    "value_diff",
]

DIFF_LIMIT = 64 * 1024
"""Bytes of each payload compared at most (the capture's payload cap)."""
MAX_LINES = 200
"""Lines of difference listed at most; the rest are counted."""
MAX_VALUES = 20_000
"""JSON values visited at most in one comparison (a hostile document may be huge)."""
TEXT_LINES = 2_000
"""Lines of text compared with difflib at most (its matching is quadratic at worst)."""
LINE_WIDTH = 500
"""Characters of one line of text shown at most."""
VALUE_WIDTH = 120
"""Characters of one JSON value shown in a line at most."""
_MISSING = object()
"""A key or index one side does not have."""
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Sign(StrEnum):
    """What a line of the diff says, and how it is drawn."""

    CHANGED = "~"
    ADDED = "+"
    REMOVED = "-"
    CONTEXT = " "
    HUNK = "@"


@dataclass(frozen=True, slots=True)
class DiffLine:
    sign: Sign
    text: str


@dataclass(frozen=True, slots=True)
class PayloadDiff:
    """``kind`` is how the payloads were compared (``json``, ``text``, ``binary``);
    ``summary`` one line (``2 changed, 1 added``, ``same payload``); ``more`` counts
    the lines left out beyond :data:`MAX_LINES` (or the values not compared)."""

    kind: str
    summary: str
    lines: tuple[DiffLine, ...] = ()
    more: int = 0

    @property
    def same(self) -> bool:
        return not self.lines and not self.more


def payload_diff(before: bytes, after: bytes, *, cut: bool = False) -> PayloadDiff:
    """How ``after`` differs from ``before``. ``cut``: either was cut on capture, so
    only their kept bytes are compared (as bytes, since a cut document does not parse);
    so are payloads beyond :data:`DIFF_LIMIT`, on their first bytes."""
    if max(len(before), len(after)) > DIFF_LIMIT:
        before, after, cut = before[:DIFF_LIMIT], after[:DIFF_LIMIT], True
    if before == after:
        return PayloadDiff("bytes", "same payload as the previous message")
    kinds = {detect(before, limit=DIFF_LIMIT), detect(after, limit=DIFF_LIMIT)}
    kinds -= {PayloadKind.EMPTY}
    if not cut and kinds == {PayloadKind.JSON}:
        return _json_diff(json.loads(before), json.loads(after))
    if not cut and kinds <= {PayloadKind.JSON, PayloadKind.TEXT} and kinds:
        text = _text_diff(before.decode("utf-8"), after.decode("utf-8"))
        if text is not None:
            return text
    return _bytes_diff(before, after)


def value_diff(before: Any, after: Any, kind: str) -> PayloadDiff:
    """How the value ``after`` differs from ``before`` (plain JSON values, as the
    codecs decode a binary payload), by key path; ``kind`` names how they were read."""
    diff = _json_diff(before, after)
    if not diff.lines and not diff.more:
        return PayloadDiff(kind, "same values")
    return PayloadDiff(kind, diff.summary, diff.lines, diff.more)


# -- JSON ------------------------------------------------------------------------------


def _step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{safe_json_dumps(key)}]"


def _value(value: Any) -> str:
    try:
        text = safe_json_dumps(value)
    except (ValueError, RecursionError):
        text = "…"
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _json_diff(before: Any, after: Any) -> PayloadDiff:
    lines: list[DiffLine] = []
    counts = {Sign.CHANGED: 0, Sign.ADDED: 0, Sign.REMOVED: 0}
    visited = 0

    def note(sign: Sign, text: str) -> None:
        counts[sign] += 1
        if len(lines) < MAX_LINES:
            lines.append(DiffLine(sign, text))

    # Depth-first with an explicit stack (a hostile document may nest deeply), in
    # document order: what was removed or added where it was or is.
    stack: list[tuple[str, Any, Any]] = [("", before, after)]
    while stack and visited < MAX_VALUES:
        path, old, new = stack.pop()
        visited += 1
        if old is _MISSING:
            note(Sign.ADDED, f"{display_safe(path)}: {_value(new)}")
        elif new is _MISSING:
            note(Sign.REMOVED, f"{display_safe(path)}: {_value(old)}")
        elif isinstance(old, dict) and isinstance(new, dict):
            keys = [*old, *(k for k in new if k not in old)]
            stack.extend(
                (_step(path, k), old.get(k, _MISSING), new.get(k, _MISSING)) for k in reversed(keys)
            )
        elif isinstance(old, list) and isinstance(new, list):
            stack.extend(
                (
                    _step(path, i),
                    old[i] if i < len(old) else _MISSING,
                    new[i] if i < len(new) else _MISSING,
                )
                for i in reversed(range(max(len(old), len(new))))
            )
        elif type(old) is not type(new) or old != new:
            shown = display_safe(path) or "(the whole document)"
            note(Sign.CHANGED, f"{shown}: {_value(old)} → {_value(new)}")
    labels = ("changed", "added", "removed")
    parts = [f"{n} {label}" for label, n in zip(labels, counts.values(), strict=True)]
    summary = ", ".join(p for p in parts if not p.startswith("0 ")) or "same values"
    more = sum(counts.values()) - len(lines)
    if stack:
        summary += f" (compared the first {MAX_VALUES:,} values)"
        more += len(stack)
    return PayloadDiff("json", summary, tuple(lines), more)


# -- text ------------------------------------------------------------------------------


def _text_diff(before: str, after: str) -> PayloadDiff | None:
    """A line diff, or ``None`` when either text has too many lines for difflib."""
    old, new = before.splitlines(), after.splitlines()
    if max(len(old), len(new)) > TEXT_LINES:
        return None
    lines: list[DiffLine] = []
    added = removed = 0
    total = 0
    for raw in difflib.unified_diff(old, new, n=1, lineterm=""):
        if raw.startswith(("---", "+++")) and total < 2:
            total += 1
            continue
        sign = {"+": Sign.ADDED, "-": Sign.REMOVED, "@": Sign.HUNK}.get(raw[:1], Sign.CONTEXT)
        added += sign is Sign.ADDED
        removed += sign is Sign.REMOVED
        shown = display_safe(raw[1:] if sign is not Sign.HUNK else raw)
        if len(shown) > LINE_WIDTH:
            shown = shown[: LINE_WIDTH - 1] + "…"
        lines.append(DiffLine(sign, shown))
    summary = f"{added} line{'s' * (added != 1)} added, {removed} removed"
    if not added and not removed:  # only line endings differ
        summary = "same lines (the line endings differ)"
    return PayloadDiff("text", summary, tuple(lines[:MAX_LINES]), max(len(lines) - MAX_LINES, 0))


# -- bytes -----------------------------------------------------------------------------


def _hex(data: bytes, limit: int = 16) -> str:
    shown = " ".join(f"{b:02x}" for b in data[:limit])
    return shown + (" …" if len(data) > limit else "")


def _bytes_diff(before: bytes, after: bytes) -> PayloadDiff:
    """The ranges of offsets where the bytes differ, then what was added or cut."""
    common = min(len(before), len(after))
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    block = 64
    for at in range(0, common, block):  # whole blocks first: equal ones cost one compare
        if before[at : at + block] == after[at : at + block]:
            if start is not None:
                ranges.append((start, at))
                start = None
            continue
        for offset in range(at, min(at + block, common)):
            if before[offset] != after[offset]:
                if start is None:
                    start = offset
            elif start is not None:
                ranges.append((start, offset))
                start = None
    if start is not None:
        ranges.append((start, common))
    lines = [
        DiffLine(
            Sign.CHANGED,
            f"0x{lo:04x}–0x{hi - 1:04x} ({hi - lo} B): "
            f"{_hex(before[lo:hi])} → {_hex(after[lo:hi])}",
        )
        for lo, hi in ranges[:MAX_LINES]
    ]
    summary = f"{len(ranges)} byte range{'s' * (len(ranges) != 1)} changed"
    if len(after) > len(before):
        grown = len(after) - len(before)
        added = f"{grown} B added at 0x{common:04x}: {_hex(after[common:])}"
        lines.append(DiffLine(Sign.ADDED, added))
        summary += f", {grown} B added"
    elif len(before) > len(after):
        cut = len(before) - len(after)
        removed = f"{cut} B cut at 0x{common:04x}: {_hex(before[common:])}"
        lines.append(DiffLine(Sign.REMOVED, removed))
        summary += f", {cut} B cut"
    return PayloadDiff("binary", summary, tuple(lines), max(len(ranges) - MAX_LINES, 0))
