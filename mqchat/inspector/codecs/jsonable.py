"""Decoded values made into plain JSON values (dicts with string keys, lists,
strings, finite numbers, booleans, null), bounded: a decoder may hand back anything
a hostile payload describes (huge integers, NaN, byte strings, tags, deep nesting)."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_NODES", "bytes_text", "jsonable"]

MAX_DEPTH = 64
"""Containers deeper than this are shown as a marker, not followed."""
MAX_NODES = 50_000
"""Values converted at most; the rest of a container is counted instead."""
_MAX_INT_BITS = 256


def bytes_text(data: bytes) -> str:
    """A byte string in a JSON document: ``base64:…`` (what ``mqchat sub --json``
    uses for a payload that is not text, with a prefix that says so)."""
    return "base64:" + base64.b64encode(data).decode("ascii")


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_NODES


def jsonable(value: Any) -> Any:
    """``value`` as a plain JSON value. Never raises for what msgpack or cbor2 return."""
    return _convert(value, 0, _Budget())


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return bytes_text(key)
    converted = _convert(key, MAX_DEPTH - 1, _Budget())
    return converted if isinstance(converted, str) else repr(converted)[:200]


def _convert(value: Any, depth: int, budget: _Budget) -> Any:
    budget.left -= 1
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            return f"<integer of {value.bit_length()} bits>"
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes_text(bytes(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if depth >= MAX_DEPTH:
            return f"<nested deeper than {MAX_DEPTH}>"
        return _container(value, depth, budget)
    tag = getattr(value, "tag", None)
    if isinstance(tag, int) and hasattr(value, "value"):  # cbor2.CBORTag
        return {"tag": tag, "value": _convert(value.value, depth + 1, budget)}
    code = getattr(value, "code", None)
    if isinstance(code, int) and isinstance(getattr(value, "data", None), bytes):
        return {"ext": code, "data": bytes_text(value.data)}  # msgpack.ExtType
    return str(value)[:1000]  # Decimal, Fraction, UUID, a timestamp, undefined…


def _container(value: Any, depth: int, budget: _Budget) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if budget.left <= 0:
                out["…"] = f"{len(value) - len(out):,} more entries"
                break
            out[_key(key)] = _convert(item, depth + 1, budget)
        return out
    items: list[Any] = []
    for item in value:
        if budget.left <= 0:
            items.append(f"… {len(value) - len(items):,} more items")
            break
        items.append(_convert(item, depth + 1, budget))
    return items
