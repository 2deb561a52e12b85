"""Pure rules of the headless ``sub``, ``pub`` and ``clear-retained`` commands: topic
and filter checks, the MQTT version flag (defined with the settings, re-exported
here), and the lines ``mqchat sub`` prints. No network, no terminal: everything here
is tested on its own."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum

from mqchat.config.settings import parse_mqtt_version
from mqchat.core.wire import format_ts

__all__ = [
    "MAX_TOPIC_BYTES",
    "OutputFormat",
    "RetainedFilter",
    "check_filter",
    "check_topic",
    "json_line",
    "line_renderer",
    "parse_mqtt_version",
    "payload_line",
    "terminal_safe",
    "verbose_line",
]

MAX_TOPIC_BYTES = 65535
"""A topic or filter is a UTF-8 string with a 16-bit length on the wire."""


class OutputFormat(StrEnum):
    """What ``mqchat sub`` prints for each message."""

    PAYLOAD = "payload"
    """The payload and a newline (mosquitto_sub's default)."""
    VERBOSE = "verbose"
    """``topic payload`` (mosquitto_sub -v)."""
    JSON = "json"
    """One JSON object per line: topic, payload, qos, retain, ts."""


class RetainedFilter(StrEnum):
    """Which messages ``mqchat sub`` handles, by their retain flag."""

    ALL = "all"
    ONLY = "only"
    """Retained ones only; the first live message ends the run (--retained-only)."""
    SKIP = "skip"
    """Live ones only: retained ones are neither printed nor counted (--no-retained)."""


def _check_text(text: str, what: str) -> bytes:
    if not text:
        raise ValueError(f"the {what} is empty")
    if "\x00" in text:
        raise ValueError(f"the {what} {text!r} contains NUL")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"the {what} {text!r} is not valid UTF-8") from None
    if len(raw) > MAX_TOPIC_BYTES:
        raise ValueError(f"the {what} is longer than {MAX_TOPIC_BYTES} bytes")
    return raw


def check_filter(text: str) -> str:
    """``text`` if it is a valid subscription filter: ``+`` only as a whole level,
    ``#`` only as the whole last level. Raises :class:`ValueError` with the reason."""
    _check_text(text, "topic filter")
    levels = text.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError(
                f"invalid topic filter {text!r}: '#' must be a whole level, and the last one"
            )
        if "+" in level and level != "+":
            raise ValueError(f"invalid topic filter {text!r}: '+' must be a whole level")
    return text


def check_topic(text: str) -> str:
    """``text`` if messages can be published to it: no wildcards. Raises
    :class:`ValueError` with the reason."""
    _check_text(text, "topic")
    if "+" in text or "#" in text:
        raise ValueError(f"invalid topic {text!r}: '+' and '#' are for subscriptions only")
    return text


# Terminal safety. C0 controls other than tab and newline, DEL, C1 controls (CSI and
# OSC among them) and bidirectional overrides could drive the terminal or reorder
# what is shown; on a terminal they are shown as escapes instead.
_UNSAFE = [
    *(c for c in range(0x20) if c not in (0x09, 0x0A)),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_TEXT_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in _UNSAFE if c >= 0x20}  # json escapes C0 itself


def terminal_safe(data: bytes | bytearray) -> bytes:
    """``data`` as UTF-8 text a terminal cannot be driven by: invalid bytes as
    ``\\xff``, control characters and bidi overrides as ``\\x1b``/``\\u202e``;
    newlines and tabs stay."""
    return data.decode("utf-8", "backslashreplace").translate(_TEXT_ESCAPES).encode("utf-8")


def payload_line(payload: bytes | bytearray) -> bytes:
    """The payload as it came, then a newline: one line per message, even an empty one
    (where mosquitto_sub prints nothing at all)."""
    return bytes(payload) + b"\n"


def verbose_line(topic: str, payload: bytes | bytearray) -> bytes:
    """``topic payload``; an empty payload shows as ``(null)``, as mosquitto_sub -v."""
    return topic.encode("utf-8") + b" " + (payload or b"(null)") + b"\n"


def json_line(
    topic: str,
    payload: bytes | bytearray,
    *,
    qos: int,
    retain: bool,
    ts: datetime,
    properties: Mapping[str, object] | None = None,
    safe: bool = False,
) -> bytes:
    """One JSON object and a newline. The payload is text when it is valid UTF-8, else
    base64 with ``"encoding": "base64"``; ``ts`` is when it arrived (UTC, ms);
    ``properties`` (MQTT 5) only when there are any. With ``safe``, characters that
    could drive a terminal are written as ``\\uXXXX`` escapes (still valid JSON)."""
    obj: dict[str, object] = {"topic": topic}
    try:
        obj["payload"] = payload.decode("utf-8")
    except UnicodeDecodeError:
        obj["payload"] = base64.b64encode(payload).decode("ascii")
        obj["encoding"] = "base64"
    obj |= {"qos": qos, "retain": retain, "ts": format_ts(ts)}
    if properties:
        obj["properties"] = {k: _jsonable(v) for k, v in properties.items()}
    text = json.dumps(obj, ensure_ascii=False)
    if safe:
        text = text.translate(_JSON_ESCAPES)
    return text.encode("utf-8") + b"\n"


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def line_renderer(output: OutputFormat, *, safe: bool) -> Callable[[str, bytes | bytearray], bytes]:
    """The plain-text renderer of ``mqchat sub``: ``(topic, payload) -> line``. With
    ``safe`` (stdout is a terminal) payloads and topics go through
    :func:`terminal_safe`; otherwise the bytes are written as they came, as
    mosquitto_sub does, because scripts rely on them."""
    if output is OutputFormat.VERBOSE:
        if safe:
            return lambda topic, payload: terminal_safe(verbose_line(topic, payload))
        return verbose_line
    if output is OutputFormat.PAYLOAD:
        if safe:
            return lambda _topic, payload: terminal_safe(payload) + b"\n"
        return lambda _topic, payload: payload_line(payload)
    raise ValueError(f"{output} is not a plain-text format")
