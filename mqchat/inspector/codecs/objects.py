"""MessagePack and CBOR payloads, decoded by ``msgpack`` and ``cbor2``: the whole
payload must be exactly one value (trailing bytes are an error), nesting is capped,
and every failure is one :class:`CodecError` line."""

from __future__ import annotations

import io
from typing import Any

import cbor2
import msgpack

from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.jsonable import MAX_DEPTH, jsonable

__all__ = ["decode_cbor", "decode_msgpack"]


def decode_msgpack(payload: bytes) -> Any:
    """The one MessagePack value ``payload`` holds, as a plain JSON value."""
    try:
        value = msgpack.unpackb(
            payload, raw=False, strict_map_key=False, use_list=True, timestamp=3
        )
    except msgpack.ExtraData:
        raise CodecError("not MessagePack: bytes left over after one value") from None
    except Exception as exc:  # the C unpacker raises several kinds; all mean "not this"
        raise CodecError(f"not MessagePack: {_reason(exc)}") from None
    return jsonable(value)


def decode_cbor(payload: bytes) -> Any:
    """The one CBOR data item ``payload`` holds, as a plain JSON value."""
    stream = io.BytesIO(payload)
    try:
        value = cbor2.CBORDecoder(stream, max_depth=MAX_DEPTH).decode()
    except Exception as exc:
        raise CodecError(f"not CBOR: {_reason(exc)}") from None
    if stream.tell() != len(payload):
        raise CodecError("not CBOR: bytes left over after one data item")
    return jsonable(value)


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return text or type(exc).__name__
