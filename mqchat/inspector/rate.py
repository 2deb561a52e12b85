"""A msg/s meter over a sliding window of time buckets: O(1) per message and a fixed
amount of memory, whatever the rate."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["RateMeter"]


class RateMeter:
    """Counts events into ``bucket``-second buckets and reports the rate over the
    last ``window`` seconds (the current, partly filled bucket included). ``clock``
    gives the time when ``now`` is not passed; any clock works as long as one meter
    sees one clock. A clock that steps back counts into the current bucket."""

    __slots__ = ("_bucket", "_clock", "_counts", "_current", "_started", "_total")

    def __init__(
        self,
        window: float = 5.0,
        bucket: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if bucket <= 0 or window < bucket:
            raise ValueError("a rate meter needs 0 < bucket <= window")
        self._bucket = bucket
        self._clock = clock
        self._counts = [0] * round(window / bucket)
        self._current: int | None = None  # index of the newest bucket since the epoch
        self._started = 0.0
        self._total = 0

    @property
    def total(self) -> int:
        """Every event ever added."""
        return self._total

    @property
    def window(self) -> float:
        return len(self._counts) * self._bucket

    def _advance(self, now: float) -> int:
        """Make the bucket holding ``now`` the current one; return its index."""
        index = int(now // self._bucket)
        current = self._current
        if current is None:
            self._current, self._started = index, now
            return index
        if index <= current:
            return current
        counts = self._counts
        size = len(counts)
        for skipped in range(current + 1, min(index, current + size) + 1):
            counts[skipped % size] = 0
        self._current = index
        return index

    def add(self, count: int = 1, now: float | None = None) -> None:
        """Count ``count`` events at ``now`` (default: the clock)."""
        if now is None:
            now = self._clock()
        current = self._current
        if current is None or now >= (current + 1) * self._bucket:
            current = self._advance(now)
        self._counts[current % len(self._counts)] += count
        self._total += count

    def rate(self, now: float | None = None) -> float:
        """Events per second over the window ending at ``now``; over the time since
        the first event while that is shorter (but at least one bucket, so the first
        burst does not read as a huge rate)."""
        if now is None:
            now = self._clock()
        if self._current is None:
            return 0.0
        current = self._advance(now)
        span = (len(self._counts) - 1) * self._bucket + (now - current * self._bucket)
        span = max(min(span, now - self._started), self._bucket)
        return sum(self._counts) / span

    def reset(self) -> None:
        self._counts = [0] * len(self._counts)
        self._current = None
        self._total = 0
