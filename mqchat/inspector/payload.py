"""Payloads as the inspector shows them: detected as JSON, text or binary, formatted
as pretty JSON, text, an ``xxd``-style hex dump or base64, a one-line preview, and
numbers for sparklines. Every function is bounded on hostile input (any bytes, any
size) and returns text that cannot drive the terminal."""

from __future__ import annotations

import base64
import codecs
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from rich.cells import cell_len, set_cell_size

from mqchat.core.text import display_safe

__all__ = [
    "FORMAT_LIMIT",
    "MAX_NUMERIC_FIELDS",
    "FormattedPayload",
    "PayloadKind",
    "Sparkline",
    "View",
    "detect",
    "fit_width",
    "format_payload",
    "hex_dump",
    "numeric_fields",
    "numeric_value",
    "preview",
    "safe_json_dumps",
    "sparkline",
]

FORMAT_LIMIT = 16 * 1024
"""Bytes of a payload the detail views format; the rest is counted, not shown."""
NUMBER_LIMIT = 256  # a plain number longer than this is not a reading
_JSON_NUMBER_LIMIT = 64 * 1024
_BASE64_LINE = 76
_SPARKS = "▁▂▃▄▅▆▇█"
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A plain number as a payload or a JSON string carries it (no NaN, no infinity)."""
# Text with these is binary to us (tab, LF and CR are fine): C0 controls, DEL, C1.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = str.maketrans({"\r": "⏎", "\n": "⏎"})


class PayloadKind(StrEnum):
    """What a payload looks like: the view the detail pane opens with."""

    EMPTY = "empty"
    JSON = "json"  # an object or an array; a bare number or string counts as text
    TEXT = "text"  # UTF-8 without control characters other than tab, CR, LF
    BINARY = "binary"


class View(StrEnum):
    JSON = "json"
    TEXT = "text"
    HEX = "hex"
    BASE64 = "base64"
    DECRYPTED = "decrypted"
    """A sealed chat envelope opened with this device's keys (``inspector/sealed.py``);
    never a view of the wire bytes: :func:`format_payload` shows the detected one."""
    DECODED = "decoded"
    """A binary payload decoded by a codec (``inspector/decoded.py``), shown as JSON;
    its bar label is the codec's (``[msgpack]``). :func:`format_payload` shows the
    detected wire view for it."""
    DIFF = "diff"
    """What changed from the topic's previous message (``inspector/diff.py``); ``d``
    shows it, outside the ``v`` cycle. :func:`format_payload` shows the detected
    wire view for it."""


@dataclass(frozen=True, slots=True)
class FormattedPayload:
    """A payload formatted for the detail pane. ``text`` is terminal-safe (lines
    separated by ``\\n``) and ends with a ``… N more bytes`` line when ``omitted``
    bytes (beyond the format limit or the capture cap) are not shown."""

    kind: PayloadKind
    view: View
    text: str
    omitted: int = 0

    @property
    def is_json(self) -> bool:
        return self.view is View.JSON


@dataclass(frozen=True, slots=True)
class Sparkline:
    text: str
    low: float
    high: float
    last: float
    count: int


@cache
def _json_escapes() -> dict[int, str]:
    """What ``display_safe`` would drop, as JSON escapes instead, so formatted JSON
    stays valid JSON and still cannot drive the terminal. Lone surrogates too."""
    every = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    unsafe = set(every) - set(display_safe(every))
    table = {ord(ch): f"\\u{ord(ch):04x}" for ch in unsafe}
    table.update({c: f"\\u{c:04x}" for c in range(0xD800, 0xE000)})
    return table


def safe_json_dumps(value: Any, *, indent: int | None = None) -> str:
    """``json.dumps`` keeping non-ASCII text readable, with control characters,
    bidirectional overrides and lone surrogates escaped."""
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    if text.isascii() and "\x7f" not in text:  # json.dumps escaped every other control
        return text
    return text.translate(_json_escapes())


def _decode_prefix(data: bytes, complete: bool) -> str | None:
    """``data`` as UTF-8, or ``None`` when it is not. An incomplete prefix may end in
    the middle of a character."""
    try:
        text, _ = codecs.utf_8_decode(data, "strict", complete)
    except UnicodeDecodeError:
        return None
    return text


def _parse_json(data: bytes) -> Any:
    """The JSON value of ``data`` (strict UTF-8), or raise ``ValueError``."""
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:  # "[[[[…" thousands deep
        raise ValueError("nested too deeply") from None


def detect(payload: bytes, *, size: int | None = None, limit: int = FORMAT_LIMIT) -> PayloadKind:
    """What ``payload`` is, judged on its first ``limit`` bytes. ``size`` is the
    original size when ``payload`` is a truncated capture (then it is never JSON)."""
    return _detect(payload, size, limit)[0]


def _detect(payload: bytes, size: int | None, limit: int) -> tuple[PayloadKind, Any]:
    """The kind, and the parsed value when it is JSON."""
    if not payload:
        return PayloadKind.EMPTY, None
    complete = (size is None or size <= len(payload)) and len(payload) <= limit
    text = _decode_prefix(payload[:limit], complete)
    if text is None or _NOT_TEXT.search(text):
        return PayloadKind.BINARY, None
    if complete and text.lstrip()[:1] in ("{", "["):
        try:
            return PayloadKind.JSON, _parse_json(payload)
        except ValueError:
            pass
    return PayloadKind.TEXT, None


def hex_dump(data: bytes, *, offset: int = 0) -> str:
    """``xxd``-style lines: offset, 16 bytes as 8 groups of 2, then ASCII with a dot
    for anything unprintable. Callers bound ``data``."""
    lines = []
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        hexed = chunk.hex()
        groups = " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset + start:08x}: {groups:<39}  {ascii_}")
    return "\n".join(lines)


def _safe_text(text: str) -> str:
    return display_safe(text.replace("\r\n", "\n").replace("\r", "\n"))


def format_payload(
    payload: bytes,
    view: View | None = None,
    *,
    size: int | None = None,
    limit: int = FORMAT_LIMIT,
) -> FormattedPayload:
    """``payload`` formatted in ``view`` (by default the one :func:`detect` picks:
    JSON → pretty JSON, text → text, binary → hex). At most ``limit`` bytes are
    formatted; the rest, and whatever the capture cut off (``size`` is the original
    size), is counted in ``omitted``. A JSON view of something that is not JSON shows
    it as text."""
    total = len(payload) if size is None else max(size, len(payload))
    kind, value = _detect(payload, size, limit)
    if view is None or view in (View.DECRYPTED, View.DECODED, View.DIFF):
        view = {PayloadKind.JSON: View.JSON, PayloadKind.BINARY: View.HEX}.get(kind, View.TEXT)
    if view is View.JSON and kind is not PayloadKind.JSON:
        view = View.TEXT
    shown = payload[:limit]
    if view is View.JSON:
        try:
            text = safe_json_dumps(value, indent=2)
        except RecursionError:  # nested too deeply to indent
            view, text = View.TEXT, _safe_text(payload.decode("utf-8"))
        if len(text) > 8 * limit:  # deep nesting multiplies the indentation
            view, text = View.TEXT, _safe_text(payload.decode("utf-8"))
    elif view is View.TEXT:
        text = _safe_text(codecs.utf_8_decode(shown, "replace", len(shown) == total)[0])
    elif view is View.HEX:
        text = hex_dump(shown)
    else:
        shown = payload[: limit - limit % 3]  # whole 3-byte groups: a prefix of the whole
        encoded = base64.b64encode(shown).decode("ascii")
        text = "\n".join(
            encoded[i : i + _BASE64_LINE] for i in range(0, len(encoded), _BASE64_LINE)
        )
    omitted = total - len(shown)
    if omitted > 0:
        text += f"\n… {omitted:,} more bytes"
    return FormattedPayload(kind, view, text, omitted)


def fit_width(text: str, width: int, *, more: bool = False) -> str:
    """``text`` cut to ``width`` terminal cells (as Rich, hence Textual, counts them),
    ending in ``…`` when anything was cut or ``more`` says ``text`` is itself a cut."""
    if width <= 0:
        return ""
    if not more and cell_len(text) <= width:
        return text
    # set_cell_size pads with a space where a wide character would straddle the cut
    return set_cell_size(text, width - 1).rstrip(" ") + "…"


def preview(payload: bytes, width: int, *, size: int | None = None) -> str:
    """One terminal-safe line of at most ``width`` cells: the text with line breaks as
    ``⏎``, or ``[hex] 48 65 …`` for binary, ``(empty)`` for nothing."""
    total = len(payload) if size is None else max(size, len(payload))
    if not payload:
        return fit_width("(empty)", width)
    head = payload[: max(width, 1) * 4]
    text = _decode_prefix(head, len(head) == total)
    if text is None or _NOT_TEXT.search(text):
        shown = payload[: max(width, 1) // 3 + 1]
        pairs = " ".join(f"{b:02x}" for b in shown)
        return fit_width(f"[hex] {pairs}", width, more=len(shown) < total)
    line = display_safe(text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    return fit_width(line, width, more=len(head) < total)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str) and len(value) <= NUMBER_LIMIT and NUMBER.fullmatch(value):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def numeric_value(payload: bytes, json_field: str | None = None) -> float | None:
    """The number a payload carries, for a sparkline: a plain number (``23.41``), a
    JSON number, or with ``json_field`` the numeric field of a JSON object
    (dotted for nesting, ``sensor.temp``; a number indexes an array). Numeric
    strings count; NaN, infinities, booleans and anything else give ``None``."""
    if json_field is None and len(payload) <= NUMBER_LIMIT:
        try:
            text = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        if NUMBER.fullmatch(text):
            return _number(text)
    if len(payload) > _JSON_NUMBER_LIMIT:
        return None
    try:
        value = json.loads(payload.decode("utf-8"), parse_constant=lambda _: None)
    except (ValueError, RecursionError):
        return None
    if json_field is not None:
        for key in json_field.split("."):
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and key.isdecimal() and int(key) < len(value):
                value = value[int(key)]
            else:
                return None
    return _number(value)


MAX_NUMERIC_FIELDS = 32
"""Numeric fields of one JSON object offered for a sparkline at most."""


def numeric_fields(payload: bytes, *, limit: int = MAX_NUMERIC_FIELDS) -> list[str]:
    """The dotted paths (``temp``, ``sensor.hum``, ``readings.0``) of the numeric
    leaves of a JSON object or array payload, in document order, at most ``limit``
    of them: what :func:`numeric_value` can follow with ``json_field``. A plain
    number, a non-JSON payload or one without numbers gives ``[]``."""
    if len(payload) > _JSON_NUMBER_LIMIT:
        return []
    try:
        value = json.loads(payload.decode("utf-8"), parse_constant=lambda _: None)
    except (ValueError, RecursionError):
        return []
    if not isinstance(value, dict | list):
        return []
    found: list[str] = []
    # Depth-first with an explicit stack (a hostile payload may nest deeply).
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(found) < limit:
        path, node = stack.pop()
        if isinstance(node, dict):
            items = [(str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            items = [(str(i), v) for i, v in enumerate(node)]
        else:
            if path and _number(node) is not None:
                found.append(path)
            continue
        for key, child in reversed(items):
            if "." not in key:  # a key with a dot cannot be named by a dotted path
                stack.append((f"{path}.{key}" if path else key, child))
    return found


def sparkline(values: Iterable[float], width: int) -> Sparkline | None:
    """The last ``width`` finite values as ``▁▂▃▄▅▆▇█``, scaled between their minimum
    and maximum (a flat series is a row of ``▄``); ``None`` without values."""
    kept = [v for v in values if math.isfinite(v)][-width:] if width > 0 else []
    if not kept:
        return None
    low, high = min(kept), max(kept)
    span = high - low
    if span <= 0 or not math.isfinite(span):
        text = _SPARKS[3] * len(kept)
    else:
        top = len(_SPARKS) - 1
        text = "".join(_SPARKS[min(top, int((v - low) / span * top + 0.5))] for v in kept)
    return Sparkline(text, low, high, kept[-1], len(kept))
