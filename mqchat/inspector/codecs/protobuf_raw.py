"""Protobuf without a schema: the wire format walked field by field, as
``protoc --decode_raw`` does. ``google.protobuf`` has no API for this (it parses
only into a known message type), so this small walker does it, with hard bounds: a
varint is at most 10 bytes, a length never runs past its message, nesting stops at
:data:`MAX_NESTING`, and a payload is a message only when every byte is consumed.

The result is a JSON object keyed by field number (a repeated field is a list). A
length-delimited field is shown as a nested message when its bytes parse as one,
else as text when they are printable UTF-8, else as ``base64:…``; a fixed-width
field as the float it most plausibly is, else as an integer (the schema is what
would tell)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from mqchat.core.text import display_safe
from mqchat.inspector.codecs.errors import CodecError
from mqchat.inspector.codecs.jsonable import bytes_text

__all__ = ["MAX_NESTING", "RawShape", "decode_protobuf_raw", "raw_shape"]

MAX_NESTING = 32
MAX_FIELDS = 20_000
_MAX_FIELD_NUMBER = (1 << 29) - 1
_VARINT, _FIXED64, _LENGTH, _START_GROUP, _END_GROUP, _FIXED32 = range(6)


@dataclass(frozen=True, slots=True)
class RawShape:
    """What the walk found at the top level: how many fields, the largest field
    number, and which wire types, for judging how plausible a message it is."""

    fields: int
    max_number: int
    wire_types: frozenset[int]


class _Walk:
    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields = 0


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(at, min(at + 10, end)):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    raise CodecError("not Protobuf: a varint runs past its end")


def _fields(data: bytes, at: int, end: int, walk: _Walk) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of each field in ``data[at:end]``."""
    found = []
    while at < end:
        key, at = _varint(data, at, end)
        number, wire = key >> 3, key & 7
        if not 0 < number <= _MAX_FIELD_NUMBER:
            raise CodecError("not Protobuf: field number 0 or out of range")
        value: Any
        if wire == _VARINT:
            value, at = _varint(data, at, end)
        elif wire == _FIXED64:
            if at + 8 > end:
                raise CodecError("not Protobuf: a 64-bit field runs past its end")
            value, at = data[at : at + 8], at + 8
        elif wire == _FIXED32:
            if at + 4 > end:
                raise CodecError("not Protobuf: a 32-bit field runs past its end")
            value, at = data[at : at + 4], at + 4
        elif wire == _LENGTH:
            length, at = _varint(data, at, end)
            if length > end - at:
                raise CodecError("not Protobuf: a length runs past its end")
            value, at = (at, at + length), at + length
        else:  # groups (deprecated since proto2) and the unused wire types 6, 7
            raise CodecError(f"not Protobuf: wire type {wire}")
        walk.fields += 1
        if walk.fields > MAX_FIELDS:
            raise CodecError(f"not Protobuf: more than {MAX_FIELDS:,} fields")
        found.append((number, wire, value))
    return found


def raw_shape(payload: bytes) -> RawShape:
    """The top level of ``payload`` as a message, or :class:`CodecError`."""
    if not payload:
        raise CodecError("not Protobuf: empty")
    fields = _fields(payload, 0, len(payload), _Walk())
    return RawShape(len(fields), max(n for n, _, _ in fields), frozenset(w for _, w, _ in fields))


def decode_protobuf_raw(payload: bytes) -> dict[str, Any]:
    """``payload`` as a message of unknown type: ``{"1": 150, "2": {"1": "x"}}``."""
    if not payload:
        raise CodecError("not Protobuf: empty")
    return _message(payload, 0, len(payload), 0, _Walk())


def _message(data: bytes, at: int, end: int, depth: int, walk: _Walk) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, wire, raw in _fields(data, at, end, walk):
        value = _value(data, wire, raw, depth, walk)
        key = str(number)
        if key not in out:
            out[key] = value
        elif isinstance(out[key], _Repeated):
            out[key].append(value)
        else:
            out[key] = _Repeated([out[key], value])
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in out.items()}


class _Repeated(list[Any]):
    """The values of a field seen more than once (a plain list value stays one)."""


def _value(data: bytes, wire: int, raw: Any, depth: int, walk: _Walk) -> Any:
    if wire == _VARINT:
        return raw
    if wire == _FIXED64:
        return _fixed(raw, "<d", "<Q")
    if wire == _FIXED32:
        return _fixed(raw, "<f", "<I")
    start, stop = raw
    if stop > start and depth < MAX_NESTING:
        try:
            return _message(data, start, stop, depth + 1, walk)
        except CodecError:
            pass
    chunk = data[start:stop]
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return bytes_text(chunk)
    return text if display_safe(text) == text else bytes_text(chunk)


def _fixed(raw: bytes, float_format: str, int_format: str) -> float | int:
    """A float when the bits read as a plausible one (finite, not tiny, short in
    decimal), else the unsigned integer."""
    number: float = struct.unpack(float_format, raw)[0]
    if number == 0 or (math.isfinite(number) and 1e-6 <= abs(number) <= 1e15):
        shown = float(f"{number:.7g}") if float_format == "<f" else number
        return shown
    integer: int = struct.unpack(int_format, raw)[0]
    return integer
