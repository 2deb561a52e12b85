"""Messages for a conversation that is not on screen: a toast naming the sender, and
the count of unread messages elsewhere in the status bar of every screen. While the
terminal is not focused, any message can also ring the bell or raise a desktop
notification (``[ui] notify`` of the config file; off by default).

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

__all__ = [
    "QUIET_FOR",
    "RECOUNT_DELAY",
    "ElsewhereNotifier",
    "alert_sequence",
    "preview",
    "write_to_terminal",
]

log = logging.getLogger(__name__)

RECOUNT_DELAY = 0.1
"""Seconds between an event and the recount it causes; events meanwhile join it."""
QUIET_FOR = 5.0
"""Seconds after a toast for a peer during which their next messages only count."""
PREVIEW_CELLS = 100


def alert_sequence(way: str, title: str, body: str) -> str:
    """What to write to the terminal to alert the user ``way`` (``bell``, ``osc9``,
    ``osc777``; anything else: nothing). Title and body lose their control
    characters, and ``;`` (OSC 777's separator) becomes ``,``, so a peer's words can
    never end the sequence early or start another."""
    title, body = (preview(t, 80).replace(";", ",") for t in (title, body))
    if way == "bell":
        return "\a"
    if way == "osc9":
        return f"\x1b]9;{title}: {body}\x1b\\"
    if way == "osc777":
        return f"\x1b]777;notify;{title};{body}\x1b\\"
    return ""


def write_to_terminal(app: App[Any], sequence: str) -> None:
    """Write ``sequence`` to the terminal, as :meth:`App.bell` does: Textual has no
    public way to write a raw sequence, so this uses its driver, the one place mqchat
    does (``tests/ui/test_ui_theme_and_alerts.py`` fails loudly if that changes)."""
    driver = getattr(app, "_driver", None)
    if sequence and not app.is_headless and driver is not None:
        driver.write(sequence)


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
        alert: Callable[[ChatMessage], None] | None = None,
        toasts_here: Callable[[], bool],
        summaries: Callable[[], Awaitable[list[ContactSummary]]],
        refresh: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._status = status
        self._shown_peer = shown_peer
        self._alert = alert
        self._alerted: dict[str, float] = {}
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
        now = self._monotonic()
        # The terminal is not looked at: even this conversation's messages alert.
        quiet = now - self._alerted.get(message.peer, -QUIET_FOR) < QUIET_FOR
        if self._alert is not None and not self._app.app_focus and not quiet:
            self._alerted[message.peer] = now
            self._alert(message)
        if message.peer == self._shown_peer() or not self._toasts_here():
            return
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
