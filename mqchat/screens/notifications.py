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
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

from mqchat.chat.backend import ChatBackend
from mqchat.core.model import ChatMessage
from mqchat.core.rooms import is_room_key
from mqchat.core.text import preview
from mqchat.screens.base import MqchatScreen
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.login import LoginScreen
from mqchat.widgets.status_bar import StatusInfo

__all__ = [
    "QUIET_FOR",
    "RECOUNT_DELAY",
    "ElsewhereNotifier",
    "alert_sequence",
    "write_to_terminal",
]

log = logging.getLogger(__name__)

RECOUNT_DELAY = 0.1
"""Seconds between an event and the recount it causes; events meanwhile join it."""
QUIET_FOR = 5.0
"""Seconds after a toast for a peer during which their next messages only count."""


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


class ElsewhereNotifier:
    """Owned by the App, which calls :meth:`received` for every message stored and
    :meth:`recount_soon` when the screen changes. What is shown is read off the App's
    screens: the conversation on screen (under any dialog) is not "elsewhere", and
    the friends list and the login want neither toasts nor the count (the list
    shows both itself). The unread counts come from ``backend()`` (``None`` before
    login); ``notify`` is ``[ui] notify`` (``off``: no alert)."""

    def __init__(
        self,
        app: App[Any],
        status: StatusInfo,
        *,
        backend: Callable[[], ChatBackend | None],
        notify: str = "off",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._status = status
        self._backend = backend
        self._notify = notify
        self._monotonic = monotonic
        self._alerted: dict[str, float] = {}
        self._toasted: dict[str, float] = {}
        self._timer: Timer | None = None

    def _underneath(self) -> Screen[Any]:
        """The screen shown, under any dialog open on it."""
        stack = self._app.screen_stack
        return next(s for s in reversed(stack) if not isinstance(s, ModalScreen))

    def _shown_peer(self) -> str | None:
        screen = self._underneath()
        return screen.peer if isinstance(screen, ConversationScreen) else None

    def _toasts_here(self) -> bool:
        return not isinstance(self._underneath(), FriendsScreen | LoginScreen)

    def _alert(self, message: ChatMessage) -> None:
        title = f"mqchat: {message.sender}"
        write_to_terminal(self._app, alert_sequence(self._notify, title, message.body))

    def _refresh(self) -> None:
        for screen in self._app.screen_stack:
            if isinstance(screen, MqchatScreen):
                screen.refresh_status()

    def received(self, message: ChatMessage) -> None:
        """A message was stored: toast it if it is someone else's, elsewhere."""
        if message.outgoing:
            return
        now = self._monotonic()
        # The terminal is not looked at: even this conversation's messages alert.
        quiet = now - self._alerted.get(message.peer, -QUIET_FOR) < QUIET_FOR
        if self._notify != "off" and not self._app.app_focus and not quiet:
            self._alerted[message.peer] = now
            self._alert(message)
        if message.peer == self._shown_peer() or not self._toasts_here():
            return  # the count leaves these out: a flood here costs no recount
        self.recount_soon()
        if now - self._toasted.get(message.peer, -QUIET_FOR) < QUIET_FOR:
            return
        self._toasted[message.peer] = now
        # In a room, the member who wrote (quiet time and counts go by the room).
        where = " in a room" if is_room_key(message.peer) else ""
        self._app.notify(
            preview(message.body) or "(empty message)",
            title=f"Message from {message.sender}{where}",
            timeout=QUIET_FOR,
            markup=False,
        )

    def recount_soon(self) -> None:
        """Recount the unread messages shortly (the screen or the history changed)."""
        if self._timer is None:
            self._timer = self._app.set_timer(RECOUNT_DELAY, self._recount)

    async def _recount(self) -> None:
        self._timer = None
        backend = self._backend()
        try:
            summaries = [] if backend is None else await backend.contacts()
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
