"""Collects backend events so tests can await the one they expect (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from mqchat.core.events import Event

__all__ = ["Recorder"]

E = TypeVar("E")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(
        self,
        kind: type[E],
        where: Callable[[E], bool] = lambda e: True,
        timeout: float = 10.0,
        since: int = 0,
    ) -> E:
        """The first event of ``kind`` matching ``where`` recorded at index ``since``
        or later (past or future)."""

        async def scan() -> E:
            seen = since
            while True:
                for event in self.events[seen:]:
                    if isinstance(event, kind) and where(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no {kind.__name__} matching within {timeout}s; got {self.events!r}"
            ) from None

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]
