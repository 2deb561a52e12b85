"""Storing what is sent: at once when the store can write without waiting, and
otherwise a commit per batch rather than per message (messages sent while a commit
waits or runs go together in the next one). Each send returns only once its message
is stored, so nothing that was "sent" can be lost, and the outbox gets them in the
order they were sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from mqchat.core.model import ChatMessage

__all__ = ["GroupCommit"]


class GroupCommit:
    """``await add(msg)`` returns once ``msg`` is committed and handed to ``then`` (in
    the order of the calls). ``write_now`` stores at once or returns ``False``
    (storing nothing) when it would have to wait; ``write`` stores, waiting as long
    as it must. Raises what they raised for its batch, and then nothing of that
    batch was handed on."""

    def __init__(
        self,
        write_now: Callable[[Sequence[ChatMessage]], bool],
        write: Callable[[Sequence[ChatMessage]], Awaitable[object]],
        then: Callable[[ChatMessage], None],
    ) -> None:
        self._write_now = write_now
        self._write = write
        self._then = then
        self._waiting: list[tuple[ChatMessage, asyncio.Future[None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def add(self, msg: ChatMessage) -> None:
        if self._writing is None and self._write_now([msg]):
            self._then(msg)  # nothing before it waits: stored, no await, no task
            return
        done = asyncio.get_running_loop().create_future()
        # Read by the caller, or by nobody when the caller gave up (see below).
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting.append((msg, done))
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_all())
        # A caller that gives up still gets its message stored and sent: it is in a
        # batch already, which is written whole.
        await asyncio.shield(done)

    async def _write_all(self) -> None:
        batch: list[tuple[ChatMessage, asyncio.Future[None]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([msg for msg, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        done.set_exception(exc)
                    continue
                for msg, done in batch:
                    self._then(msg)
                    done.set_result(None)
        finally:
            self._writing = None
            for _, done in batch + self._waiting:  # only when this task was cancelled
                if not done.done():
                    done.cancel()
            self._waiting = []
