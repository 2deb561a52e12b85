"""Which codec a binary payload is: every codec that decodes the *whole* payload is
a candidate, scored by how plausible its result is, and the best one wins.

A single byte or a bare scalar decodes as almost anything, so it scores low; a map
or an array with several entries is rarely an accident; a Protobuf walk that uses
small field numbers and consumes every byte is plausible, more so when it has
several fields; a Sparkplug topic (``spBv1.0/…``) or a payload that parses as a
Sparkplug ``Payload`` with metrics settles it."""

from __future__ import annotations

from typing import Any

from mqchat.inspector.codecs import Codec, Decoding, Format, Guess
from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.objects import decode_cbor, decode_msgpack
from mqchat.inspector.codecs.protobuf_raw import decode_protobuf_raw, raw_shape
from mqchat.inspector.codecs.sparkplug import TOPIC_PREFIX, decode_sparkplug

__all__ = ["MIN_CONFIDENCE", "best"]

MIN_CONFIDENCE = 0.3
"""Below this a guess is not offered: the payload stays bytes (hex)."""
_LATER = object()


def best(payload: bytes, topic: str, decoding: Decoding) -> Guess | None:
    sparkplug = _sparkplug(payload, topic)
    if sparkplug is not None and topic.startswith(TOPIC_PREFIX):
        return sparkplug  # nothing else could be surer: skip decoding it three more ways
    candidates = [
        c
        for c in (
            sparkplug,
            _object(payload, Codec.MSGPACK),
            _object(payload, Codec.CBOR),
            _protobuf(payload, decoding),
        )
        if c is not None
    ]
    if not candidates:
        return None
    # max keeps the first of equals: Sparkplug, then MessagePack, CBOR, Protobuf
    found = max(candidates, key=lambda g: g.confidence)
    if found.confidence < MIN_CONFIDENCE:
        return None
    if found.value is _LATER:  # the schema-less walk, decoded only when it wins
        try:
            return Guess(found.format, found.confidence, decode_protobuf_raw(payload))
        except CodecError:  # raw_shape took it, so this is only a backstop
            return None
    return found


def _object(payload: bytes, codec: Codec) -> Guess | None:
    try:
        value = (decode_msgpack if codec is Codec.MSGPACK else decode_cbor)(payload)
    except CodecError:
        return None
    if isinstance(value, dict | list):
        size = len(value)
        confidence = 0.95 if size >= 2 else 0.8 if size == 1 else 0.4
    elif isinstance(value, str | float) and len(payload) >= 4:
        confidence = 0.5  # a float64 or a string with its header
    else:
        confidence = 0.2  # one small integer, true, null: too easy to hit by chance
    if codec is Codec.CBOR and isinstance(value, dict) and "tag" in value:
        confidence = max(confidence, 0.6)
    return Guess(Format(codec), confidence, value)


def _protobuf(payload: bytes, decoding: Decoding) -> Guess | None:
    try:
        shape = raw_shape(payload)
    except CodecError:
        return None
    fmt = decoding.protobuf
    value: Any
    try:
        if fmt.message is not None and decoding.schema is not None:
            decoded = decoding.schema.decode(payload, fmt.message)
            value, typed_ok = decoded.value, not decoded.unknown_fields
        else:
            value, typed_ok = _LATER, False
    except CodecError:
        return None
    if shape.max_number > 1000:
        confidence = 0.2
    elif shape.fields >= 2 or shape.wire_types & {2}:
        confidence = 0.75
    else:
        confidence = 0.45
    if typed_ok:
        confidence = max(confidence, 0.9)
    return Guess(fmt, confidence, value)


def _sparkplug(payload: bytes, topic: str) -> Guess | None:
    try:
        decoded = decode_sparkplug(payload)
    except CodecError:
        return None
    metrics = decoded.value.get("metrics")
    if topic.startswith(TOPIC_PREFIX):
        confidence = 0.99
    elif decoded.unknown_fields or not metrics:
        return None  # a Protobuf payload that is not Sparkplug
    else:
        confidence = 0.85
    return Guess(Format(Codec.SPARKPLUG), confidence, decoded.value)
