"""Binary payload codecs: MessagePack, CBOR, Protobuf (without a schema, or with a
compiled descriptor set) and Sparkplug B, each decoded by its library into a plain
JSON value; and :func:`guess`, which says which one a payload most likely is, and
how sure it is.

Pure and bounded: a payload larger than :data:`MAX_DECODE` is not decoded, nesting
and node counts are capped, and every failure is a :class:`CodecError` with one line
that says why. Nothing here runs while messages are ingested: only for the one
message the detail pane shows, or the one ``mqchat sub --format`` prints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.protobuf_schema import Schema, load_descriptor_set

__all__ = [
    "MAX_DECODE",
    "Codec",
    "CodecError",
    "Decoding",
    "Format",
    "Guess",
    "Schema",
    "decode",
    "guess",
    "load_descriptor_set",
]

MAX_DECODE = 256 * 1024
"""Bytes of payload decoded at most; a larger one is shown as bytes."""


class Codec(StrEnum):
    MSGPACK = "msgpack"
    CBOR = "cbor"
    PROTOBUF = "protobuf"
    SPARKPLUG = "sparkplug"


@dataclass(frozen=True, slots=True)
class Format:
    """A codec, and for Protobuf with a descriptor set the message type."""

    codec: Codec
    message: str | None = None

    @property
    def label(self) -> str:
        """``msgpack``, ``protobuf`` (no schema), ``protobuf demo.Reading``."""
        return f"{self.codec} {self.message}" if self.message else str(self.codec)

    @classmethod
    def parse(cls, label: str) -> Format:
        """The format a :attr:`label` names, or :class:`CodecError`."""
        name, _, message = label.partition(" ")
        try:
            codec = Codec(name)
        except ValueError:
            raise CodecError(f"no payload format {label!r}") from None
        if message and codec is not Codec.PROTOBUF:
            raise CodecError(f"only protobuf takes a message type, not {label!r}")
        return cls(codec, message or None)


@dataclass(frozen=True, slots=True)
class Decoding:
    """The descriptor set and message type the user gave (``--descriptor``,
    ``--message``), if any: what Protobuf payloads are decoded with."""

    schema: Schema | None = None
    message: str | None = None

    def formats(self, limit: int = 12) -> tuple[Format, ...]:
        """The formats a topic can be set to, in the order a key cycles them."""
        typed = [Format(Codec.PROTOBUF, n) for n in (self.schema.names if self.schema else ())]
        if self.message is not None:  # the one asked for first
            typed.sort(key=lambda f: f.message != self.message)
        return (
            Format(Codec.MSGPACK),
            Format(Codec.CBOR),
            *typed[:limit],
            Format(Codec.PROTOBUF),
            Format(Codec.SPARKPLUG),
        )

    @property
    def protobuf(self) -> Format:
        """How a payload detected as Protobuf is decoded."""
        if self.schema is not None and self.message is not None:
            return Format(Codec.PROTOBUF, self.message)
        return Format(Codec.PROTOBUF)


@dataclass(frozen=True, slots=True)
class Guess:
    format: Format
    confidence: float
    """0 to 1: how sure the guess is (shown as a percentage)."""
    value: Any
    """The payload decoded in that format (a plain JSON value)."""


def decode(payload: bytes, fmt: Format, decoding: Decoding | None = None) -> Any:
    """``payload`` decoded as ``fmt``: a plain JSON value, or :class:`CodecError`."""
    if len(payload) > MAX_DECODE:
        raise CodecError(f"not decoded: larger than {MAX_DECODE // 1024} KiB")
    from mqchat.inspector.codecs import objects, protobuf_raw, sparkplug

    if fmt.codec is Codec.MSGPACK:
        return objects.decode_msgpack(payload)
    if fmt.codec is Codec.CBOR:
        return objects.decode_cbor(payload)
    if fmt.codec is Codec.SPARKPLUG:
        return sparkplug.decode_sparkplug(payload).value
    if fmt.message is None:
        return protobuf_raw.decode_protobuf_raw(payload)
    schema = decoding.schema if decoding is not None else None
    if schema is None:
        raise CodecError(f"no descriptor set loaded for {fmt.message}")
    return schema.decode(payload, fmt.message).value


def guess(payload: bytes, *, topic: str = "", decoding: Decoding | None = None) -> Guess | None:
    """The codec a binary payload most plausibly is, decoded, or ``None`` when none
    fits. Callers ask only for payloads that are not text: ``55.49``, ``true`` or
    ``"x"`` are text and JSON first, never MessagePack or CBOR."""
    from mqchat.inspector.codecs.detect import best

    if not payload or len(payload) > MAX_DECODE:
        return None
    return best(payload, topic, decoding or Decoding())
