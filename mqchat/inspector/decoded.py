"""The decoded view of a binary payload in the detail pane: the codec the user set
for the topic, else the one :func:`~mqchat.inspector.codecs.guess` finds, and the
payload decoded in it as pretty, terminal-safe JSON (or the one line that says why
it does not decode). Runs for the one message on screen, never while ingesting."""

from __future__ import annotations

from dataclasses import dataclass

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import CodecError, Decoding, Format, decode, guess
from mqchat.inspector.payload import FORMAT_LIMIT, safe_json_dumps

__all__ = ["MAX_TEXT", "DecodedPayload", "decoded_payload"]

MAX_TEXT = 8 * FORMAT_LIMIT
"""Characters of decoded JSON shown at most."""


@dataclass(frozen=True, slots=True)
class DecodedPayload:
    format: Format
    confidence: float | None
    """How sure detection was (0–1); ``None``: the user set the format for the topic."""
    text: str | None
    """The decoded value as indented JSON; ``None`` when it did not decode."""
    error: str = ""

    @property
    def header(self) -> str:
        """``detected: msgpack, 95 %`` or ``format: cbor, set for this topic``."""
        if self.confidence is None:
            return f"format: {self.format.label}, set for this topic"
        return f"detected: {self.format.label}, {self.confidence:.0%}"


def decoded_payload(
    message: Captured,
    *,
    binary: bool,
    chosen: Format | None = None,
    decoding: Decoding | None = None,
) -> DecodedPayload | None:
    """The decoded view of ``message``, or ``None`` when it has none: no format was
    set for the topic and the payload is text (``binary`` false: ``55.49`` stays a
    number in text), or no codec fits it well enough."""
    cut = message.size > len(message.payload)
    if chosen is not None:
        if cut:
            return DecodedPayload(
                chosen,
                None,
                None,
                f"not decoded: the capture kept {len(message.payload):,} of {message.size:,} bytes",
            )
        try:
            value = decode(message.payload, chosen, decoding)
        except CodecError as exc:
            return DecodedPayload(chosen, None, None, str(exc))
        return DecodedPayload(chosen, None, _pretty(value))
    if not binary or cut:
        return None
    found = guess(message.payload, topic=message.topic, decoding=decoding)
    if found is None:
        return None
    return DecodedPayload(found.format, found.confidence, _pretty(found.value))


def _pretty(value: object) -> str:
    try:
        text = safe_json_dumps(value, indent=2)
    except (ValueError, RecursionError):  # jsonable() bounds depth; this is the backstop
        text = safe_json_dumps(value)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n… {len(text) - MAX_TEXT:,} more characters"
    return text
