"""The value the JSON tree (``j``) browses: a JSON payload parsed, or a binary one
decoded by the codec the user set for its topic or the one detection found (its values
plain JSON, bounded by the codecs). Runs for the one message asked for, never while
ingesting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import CodecError, Decoding, Format, decode, guess
from mqchat.inspector.payload import PayloadKind, detect

__all__ = ["Document", "payload_document"]


@dataclass(frozen=True, slots=True)
class Document:
    value: Any
    source: str
    """What the value was read as: ``JSON``, ``msgpack``, ``protobuf demo.Reading``…"""
    format: Format | None = None
    """The codec it was decoded with (``None``: JSON)."""


def payload_document(
    message: Captured, *, chosen: Format | None = None, decoding: Decoding | None = None
) -> Document | str:
    """The document in ``message``, or the one line that says why it has none."""
    if message.size > len(message.payload):
        return (
            f"No tree: the capture kept {len(message.payload):,} of {message.size:,} bytes "
            "of this payload."
        )
    if chosen is not None:
        try:
            return Document(decode(message.payload, chosen, decoding), chosen.label, chosen)
        except CodecError as exc:
            return f"No tree: {exc}"
    kind = detect(message.payload, limit=max(len(message.payload), 1))
    if kind is PayloadKind.JSON:
        try:
            return Document(json.loads(message.payload.decode("utf-8")), "JSON")
        except (ValueError, RecursionError):
            return "No tree: the payload is not JSON a tree can hold (nested too deeply)."
    if kind is PayloadKind.BINARY:
        found = guess(message.payload, topic=message.topic, decoding=decoding)
        if found is not None:
            return Document(found.value, found.format.label, found.format)
    return f"No tree: the payload is {kind}, not a JSON object or array (or a codec's)."
