"""Safety numbers: 60 digits in twelve groups of five that two users compare out of
band (read aloud, or side by side), as Signal shows them. Each user's half is 30
digits derived from their identity keys and user name; the two halves are put in
the same order on both sides, so both see the same number.

The construction is Signal's numeric fingerprint (version 0): SHA-512 over a
version, the key and the user name, iterated 5,200 times with the key appended; the
first 30 bytes give six 5-digit groups (each 5 bytes as a big-endian integer modulo
100,000). Here "the key" is every device key of the user, sorted and joined, so a
new device (or a changed key) changes the number."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["ITERATIONS", "safety_number"]

ITERATIONS = 5200
_VERSION = b"\x00\x00"


def _half(user: str, keys: Iterable[bytes]) -> str:
    key = b"".join(sorted(keys))
    digest = hashlib.sha512(_VERSION + key + user.encode("utf-8")).digest()
    for _ in range(ITERATIONS):
        digest = hashlib.sha512(digest + key).digest()
    groups = (int.from_bytes(digest[i : i + 5], "big") % 100_000 for i in range(0, 30, 5))
    return "".join(f"{group:05d}" for group in groups)


def safety_number(user: str, keys: Iterable[bytes], peer: str, peer_keys: Iterable[bytes]) -> str:
    """The number ``user`` and ``peer`` compare: the same whichever of them asks."""
    digits = "".join(sorted([_half(user, keys), _half(peer, peer_keys)]))
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))
