"""Fire-and-forget work on the running loop, kept alive until done and logged if it
fails (asyncio keeps only a weak reference to a task nobody awaits)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

__all__ = ["Background"]


class Background:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._log.error("%s failed: %s", self._what, error)


async def all_done(futures: list[asyncio.Future[None]]) -> None:
    """Every one of ``futures``; the first failure is raised once all are done."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
