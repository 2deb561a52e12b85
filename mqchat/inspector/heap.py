"""Giving the free memory of the C heap back to the system after a flood.

The capture is bounded, so a flood of a million messages ends with as many kept as
one of a hundred thousand; but glibc's allocator keeps the pages the flood freed
(messages evicted, batches handed over) for later use, and the process looks
megabytes bigger than what it holds. ``malloc_trim`` returns them. It walks the
heap (a few milliseconds), so it runs only after enough churn: once the flood
pauses, or every few seconds while it lasts. Elsewhere than on glibc it does
nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import time
from collections.abc import Callable

__all__ = ["HeapTrim"]

CHURN = 100_000
"""Messages ingested since the last trim before another is worth it."""
WHILE_FLOODING_S = 5.0
"""Seconds between two trims while messages keep coming."""


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc's; musl has none
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


class HeapTrim:
    """Call :meth:`after` on every tick with how many messages it ingested and the
    total so far; it trims when :data:`CHURN` messages came since the last trim and
    either this tick took none (the flood paused) or :data:`WHILE_FLOODING_S` passed."""

    def __init__(
        self,
        *,
        trim: Callable[[int], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._trim = trim if trim is not None else _malloc_trim()
        self._clock = clock
        self._at_total = 0
        self._at_time = clock()
        self.trims = 0

    def after(self, ingested: int, total: int) -> bool:
        """Whether it trimmed now."""
        if self._trim is None or total - self._at_total < CHURN:
            return False
        now = self._clock()
        if ingested and now - self._at_time < WHILE_FLOODING_S:
            return False
        self._trim(0)
        self._at_total, self._at_time = total, now
        self.trims += 1
        return True
