"""``mqchat sub --format``: each payload decoded (JSON, MessagePack, CBOR, Protobuf
with or without a descriptor set, Sparkplug B) and printed as one line of JSON, or
one line that says it could not be: a bad payload never ends the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum

from mqchat.core.text import display_safe
from mqchat.inspector.codecs import MAX_DECODE, Codec, CodecError, Decoding, Format, decode
from mqchat.inspector.payload import safe_json_dumps

__all__ = ["UNDECODABLE", "PayloadFormat", "decoded_line", "line_decoder"]

UNDECODABLE = "[undecodable]"
"""How a line for a payload that did not decode starts (never valid JSON)."""


class PayloadFormat(StrEnum):
    JSON = "json"
    MSGPACK = "msgpack"
    CBOR = "cbor"
    PROTOBUF = "protobuf"
    SPARKPLUG = "sparkplug"


def _decode_json(payload: bytes) -> object:
    if len(payload) > MAX_DECODE:
        raise CodecError(f"not decoded: larger than {MAX_DECODE // 1024} KiB")
    try:
        return json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise CodecError(f"not JSON: {reason}") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def line_decoder(fmt: PayloadFormat, decoding: Decoding | None = None) -> Callable[[bytes], str]:
    """A function from a payload to its line (without the newline)."""
    if fmt is PayloadFormat.JSON:
        return lambda payload: decoded_line(payload, _decode_json)
    chosen = Format(Codec(fmt.value))
    if chosen.codec is Codec.PROTOBUF and decoding is not None:
        chosen = decoding.protobuf

    def one(payload: bytes) -> str:
        return decoded_line(payload, lambda data: decode(data, chosen, decoding))

    return one


def decoded_line(payload: bytes, decoder: Callable[[bytes], object]) -> str:
    """``decoder(payload)`` as compact JSON that cannot drive a terminal, or
    ``[undecodable] why (N bytes)``."""
    try:
        return safe_json_dumps(decoder(payload))
    except CodecError as exc:
        return f"{UNDECODABLE} {display_safe(str(exc))} ({len(payload):,} bytes)"
    except (ValueError, RecursionError) as exc:  # a value json cannot write (NaN: never)
        return f"{UNDECODABLE} {type(exc).__name__} ({len(payload):,} bytes)"
