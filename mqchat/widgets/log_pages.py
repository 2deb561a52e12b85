"""Where a conversation log's messages come from: pages of the history around what
is on screen, fetched into its :class:`~mqchat.widgets.log_window.LogWindow`. A jump
(to the oldest, the newest, or a search hit) replaces the window; a page fetched
for a window that a jump has replaced meanwhile is dropped."""

from __future__ import annotations

import asyncio
from typing import Protocol

from mqchat.core.model import ChatMessage
from mqchat.widgets.log_window import LogWindow

__all__ = ["History", "LogPages", "first_unread", "trim"]


class History(Protocol):
    """Where the pages come from: the chat backend."""

    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]: ...

    async def history_after(
        self, peer: str, after: ChatMessage | None, *, limit: int = 50
    ) -> list[ChatMessage]: ...


def first_unread(window: LogWindow) -> ChatMessage | None:
    """The oldest message of ``window`` from the peer that is not read yet."""
    return next((m for m in window.messages if window.unread(m)), None)


def trim(window: LogWindow, keep: int, top: int, bottom: int, following: bool) -> None:
    """Past ``keep`` messages, forget those at the end of ``window`` farther from the
    screen, but never those on lines ``top`` to ``bottom`` (the screen and the pages
    around it, which would only be fetched again): the window is as large as the
    screen needs, else ``keep``. Following the newest, only old ones go."""
    extra = len(window) - keep
    if extra <= 0:
        return
    first_kept = window.message_index_at(max(0, top))
    last_kept = window.message_index_at(bottom)
    above = first_kept or 0
    below = 0 if last_kept is None else len(window) - last_kept - 1
    if following and window.at_newest:
        below = 0
    for end in sorted((-1, 1), key=lambda e: above if e < 0 else below, reverse=True):
        count = min(extra, above if end < 0 else below)
        if end < 0:
            window.drop_oldest(count)
        else:
            window.drop_newest(count)
        extra -= count


class LogPages:
    """Fetches ``page_size`` messages at a time from ``source`` into a window of at
    most about ``max_messages``."""

    def __init__(self, source: History, *, page_size: int, max_messages: int) -> None:
        self.source = source
        self.page_size = page_size
        self.max_messages = max_messages
        self._lock = asyncio.Lock()
        self._generation = 0

    async def open(self, window: LogWindow) -> None:
        """The newest page; with unread messages, back to the first of them, as far
        as a window reaches."""
        size = self.page_size
        page = await self.source.history(window.peer, limit=size)
        window.replace(page, oldest=len(page) < size, newest=True)
        # Every unread message may be older than this page: reach back for the first.
        while (
            not window.at_oldest
            and len(window) + size <= self.max_messages
            and first_unread(window) is window.first
        ):
            older = await self.source.history(window.peer, before=window.first, limit=size)
            window.insert(older)
            window.at_oldest = len(older) < size
        first = first_unread(window)
        window.unread_from = first.id if first is not None else None

    async def oldest(self, window: LogWindow) -> None:
        async with self._lock:
            self._generation += 1
            page = await self.source.history_after(window.peer, None, limit=self.page_size)
            window.replace(page, oldest=True, newest=len(page) < self.page_size)

    async def newest(self, window: LogWindow) -> None:
        async with self._lock:
            self._generation += 1
            page = await self.source.history(window.peer, limit=self.page_size)
            window.replace(page, oldest=len(page) < self.page_size, newest=True)

    async def around(self, window: LogWindow, message: ChatMessage) -> None:
        """Half a page on each side of ``message``."""
        async with self._lock:
            self._generation += 1
            half = self.page_size // 2
            older = await self.source.history(window.peer, before=message, limit=half)
            newer = await self.source.history_after(window.peer, message, limit=half)
            window.replace(
                [*older, message, *newer], oldest=len(older) < half, newest=len(newer) < half
            )

    async def beyond(self, window: LogWindow, direction: int) -> list[ChatMessage] | None:
        """The page before (-1) or after (1) ``window``; ``None`` when there is none,
        or when a jump replaced the window while it came."""
        async with self._lock:
            edge = window.first if direction < 0 else window.last
            if (window.at_oldest if direction < 0 else window.at_newest) or edge is None:
                return None
            generation = self._generation
            if direction < 0:
                page = await self.source.history(window.peer, before=edge, limit=self.page_size)
            else:
                page = await self.source.history_after(window.peer, edge, limit=self.page_size)
            return page if generation == self._generation else None
