"""When the chat tries to connect again: a capped, jittered backoff that keeps
growing across connections that end soon after they start (a broker that drops us
right after CONNACK), starts afresh after a stable one, and can be cut short by
the user (ctrl+r)."""

from __future__ import annotations

import asyncio
import time

from mqchat.core.backoff import Backoff

__all__ = ["RECONNECT_CAP_S", "STABLE_S", "Reconnect"]

STABLE_S = 30.0
"""A connection that lasted this long resets the backoff; one that failed sooner
lets the delay keep growing."""
RECONNECT_CAP_S = 5.0
"""The longest wait between two attempts: a broker that comes back is found within
5 s."""


class Reconnect:
    """The waits of one chat service; ``stop`` ends any wait."""

    def __init__(self, stop: asyncio.Event, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff(cap=RECONNECT_CAP_S)
        self._stop = stop
        self._now = asyncio.Event()
        self._up_since: float | None = None

    def connected(self) -> None:
        """A connection is up (its CONNACK came)."""
        self._up_since = time.monotonic()

    def next_delay(self) -> float:
        """The connection ended: how long to wait before the next attempt."""
        up, self._up_since = self._up_since, None
        if up is not None and time.monotonic() - up >= STABLE_S:
            self.backoff.reset()
        self._now.clear()
        return self.backoff.next_delay()

    async def wait(self, delay: float) -> None:
        """Wait ``delay`` s, or less: until stopped, or told to try :meth:`now` (which
        also starts the backoff afresh)."""
        waits = [asyncio.ensure_future(e.wait()) for e in (self._stop, self._now)]
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if self._now.is_set() and not self._stop.is_set():
            self.backoff.reset()

    def now(self) -> None:
        """Try again at once (the caller checks a wait is on)."""
        self._now.set()
