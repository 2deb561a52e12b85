"""Messages for a conversation that is not on screen: a toast naming the sender, and
the count of unread messages elsewhere in the status bar of every screen.

The count comes from the history (the contacts' unread counts), not from counting
events, so it is right after a conversation marks its messages read, after a
redelivery, and after a restart. It is recounted at most once per
:data:`RECOUNT_DELAY`, so a flood costs a few queries, not one per message."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.timer import Timer

from mqchat.core.model import ChatMessage, ContactSummary
from mqchat.core.text import display_safe
from mqchat.widgets.status_bar import StatusInfo

__all__ = ["QUIET_FOR", "RECOUNT_DELAY", "ElsewhereNotifier", "preview"]

log = logging.getLogger(__name__)

RECOUNT_DELAY = 0.1
"""Seconds between an event and the recount it causes; events meanwhile join it."""
QUIET_FOR = 5.0
"""Seconds after a toast for a peer during which their next messages only count."""
PREVIEW_CELLS = 100


def preview(body: str, cells: int = PREVIEW_CELLS) -> str:
    """The first line of ``body``, without control characters, cut to ``cells``."""
    lines = display_safe(body).strip().splitlines() or [""]
    first = lines[0]
    more = len(lines) > 1
    if len(first) > cells:
        first, more = first[: cells - 1], True
    return first + ("…" if more else "")


class ElsewhereNotifier:
    """Owned by the App. ``shown_peer()`` names the conversation on screen, if one is
    (``None`` on any other screen); ``toasts_here()`` says whether the screen shown
    wants toasts and the count (the friends list shows both itself);
    ``summaries()`` reads the contacts' unread counts;
    ``refresh()`` redraws the status bars once :attr:`StatusInfo.unread` changed."""

    def __init__(
        self,
        app: App[Any],
        status: StatusInfo,
        *,
        shown_peer: Callable[[], str | None],
        toasts_here: Callable[[], bool],
        summaries: Callable[[], Awaitable[list[ContactSummary]]],
        refresh: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._status = status
        self._shown_peer = shown_peer
        self._toasts_here = toasts_here
        self._summaries = summaries
        self._refresh = refresh
        self._monotonic = monotonic
        self._toasted: dict[str, float] = {}
        self._timer: Timer | None = None

    def received(self, message: ChatMessage) -> None:
        """A message was stored: toast it if it is someone else's, elsewhere."""
        if message.outgoing:
            return
        self.recount_soon()
        if message.peer == self._shown_peer() or not self._toasts_here():
            return
        now = self._monotonic()
        if now - self._toasted.get(message.peer, -QUIET_FOR) < QUIET_FOR:
            return
        self._toasted[message.peer] = now
        self._app.notify(
            preview(message.body) or "(empty message)",
            title=f"Message from {message.peer}",
            timeout=QUIET_FOR,
            markup=False,
        )

    def recount_soon(self) -> None:
        """Recount the unread messages shortly (the screen or the history changed)."""
        if self._timer is None:
            self._timer = self._app.set_timer(RECOUNT_DELAY, self._recount)

    async def _recount(self) -> None:
        self._timer = None
        try:
            summaries = await self._summaries()
        except Exception:  # the history's trouble is told where it is used
            log.warning("cannot count the unread messages", exc_info=True)
            return
        here = self._shown_peer()
        unread = 0
        if self._toasts_here():  # the friends list shows every count itself
            unread = sum(s.unread for s in summaries if s.contact.user != here)
        if unread != self._status.unread:
            self._status.unread = unread
            self._refresh()
