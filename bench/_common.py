"""What both paths of the latency bench share: its settings, the message bodies, and
:class:`Arrivals`, which notes when each awaited message or event showed up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from time import perf_counter

__all__ = ["BODY_CHARS", "Arrivals", "BenchError", "Config", "body_for"]

BODY_CHARS = 60


class BenchError(Exception):
    """The run cannot give meaningful figures (a lost message, a dead connection)."""


@dataclass(frozen=True, slots=True)
class Config:
    messages: int
    """Measured messages per path, and the size of each burst."""
    warmup: int
    """Messages sent first on each path and not measured."""
    timeout: float
    """Seconds to wait for one message or event."""
    gap: float
    """Seconds of quiet before each one-at-a-time message (both paths)."""
    broker_nodelay: bool = True
    """Run the broker with ``set_tcp_nodelay true`` (Nagle off on its side too), as
    the mosquitto.conf files mqchat writes do; ``--broker-nagle`` turns it off."""
    history: int = 0
    """Messages in the history of the first-frame figure; 0: no such figure."""
    starts: int = 3
    """Measured starts of ``mqchat chat bob`` for the first-frame figure."""
    rounds: int = 1
    """Rounds of the chat path, plain and sealed taking turns."""

    @property
    def burst_timeout(self) -> float:
        return max(self.timeout, self.messages / 20)


def body_for(i: int) -> str:
    """A chat line of a typical length, different for every message."""
    return f"bench message {i:06d} ".ljust(BODY_CHARS, "x")


class Arrivals:
    """When each expected thing happened (``perf_counter``), by key; a waiter wakes
    as soon as it is recorded, whether it came before or after the wait began."""

    def __init__(self) -> None:
        self.times: dict[Hashable, float] = {}
        self._waiters: dict[Hashable, asyncio.Future[None]] = {}

    def record(self, key: Hashable) -> None:
        if key in self.times:
            return
        self.times[key] = perf_counter()
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, key: Hashable, timeout: float) -> float | None:
        """The time ``key`` was recorded, or ``None`` if it was not within ``timeout``."""
        if key not in self.times:
            waiter = self._waiters.get(key)
            if waiter is None:
                waiter = self._waiters[key] = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
        return self.times.get(key)

    async def wait_all(self, keys: Iterable[Hashable], timeout: float, what: str) -> float:
        """The time the last of ``keys`` was recorded; :class:`BenchError` if some never
        were within ``timeout``."""
        keys = list(keys)
        deadline = perf_counter() + timeout
        for key in keys:
            await self.wait(key, max(0.0, deadline - perf_counter()))
        missing = sum(key not in self.times for key in keys)
        if missing:
            raise BenchError(f"{missing} of {len(keys)} {what} within {timeout:.0f}s")
        return max(self.times[key] for key in keys)
