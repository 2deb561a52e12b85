"""Message ids: UUIDv7 strings that sort by the time they were made."""

from __future__ import annotations

import os
import time
import uuid

__all__ = ["new_message_id"]

_RAND_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) of a UUIDv7
_last_id = (0, 0)  # (ms, random part) of the previous id made from this process's clock


def new_message_id(now_ms: int | None = None) -> str:
    """A UUIDv7: 48 bits of Unix milliseconds then random bits, so ids sort by time.
    Ids made from the clock are also strictly increasing within the process (the
    random part counts up inside one millisecond, and a clock that steps back is
    ignored), so messages typed in the same millisecond keep their order."""
    global _last_id
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big") >> (80 - _RAND_BITS)
    if now_ms is None:
        last_ms, last_rand = _last_id
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
            if rand >> _RAND_BITS:  # 2^74 ids in one millisecond: borrow the next one
                ms, rand = ms + 1, 0
        _last_id = (ms, rand)
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))
