"""What every mqchat screen shares: the session it shows, a status bar on top, the
key footer at the bottom, and who is typing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from textual.app import ComposeResult
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from mqchat.chat.backend import ChatBackend
from mqchat.core.model import Contact, ContactStatus
from mqchat.core.names import InvalidUserName
from mqchat.screens.messages import ConnectionChangedMsg, RejectedMsg
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.status_bar import StatusBar, StatusInfo

__all__ = ["TYPING_FADE", "MqchatScreen", "Session", "SessionScreen", "TypingPeers", "added_note"]

TYPING_FADE = 6.0
"""Seconds ``typing…`` stays up after the peer's last typing notice (they repeat
every few seconds while the peer keeps typing)."""


@dataclass(frozen=True)
class Session:
    """A signed-in user: the backend to talk to, the shared status and the clock."""

    backend: ChatBackend
    status: StatusInfo
    clock: Callable[[], datetime]
    drafts: dict[str, str] = field(default_factory=dict)
    """What was typed to each peer and not sent yet, for as long as the app runs:
    leaving a conversation and coming back finds it in the box again."""


class MqchatScreen(Screen[None]):
    """A screen with the status bar above its body and the footer below it."""

    def __init__(self, status: StatusInfo) -> None:
        super().__init__()
        self.status = status

    def compose(self) -> ComposeResult:
        yield StatusBar(self.status)
        yield from self.compose_body()
        yield FittingFooter()

    def compose_body(self) -> Iterable[Widget]:
        """The widgets between the status bar and the footer."""
        return ()

    def key_of(self, action: str, default: str) -> str:
        """The key that runs ``action`` here now (the keymap may have moved it), for
        hints written into the screen."""
        for key, active in self.active_bindings.items():
            if active.binding.action == action:
                return key
        return default

    def refresh_status(self) -> None:
        for bar in self.query(StatusBar):  # none yet while the screen is being built
            bar.refresh()

    def on_connection_changed_msg(self, _msg: ConnectionChangedMsg) -> None:
        self.refresh_status()

    def on_rejected_msg(self, _msg: RejectedMsg) -> None:
        self.refresh_status()

    def on_screen_resume(self) -> None:
        self.refresh_status()


class TypingPeers:
    """Who is typing to us. :meth:`started` (re)starts a peer's fade timer on
    ``owner``; :meth:`stopped` (their message arrived, or the timer ran out) ends it.
    ``on_change(peer)`` runs whenever a peer starts or stops."""

    def __init__(
        self, owner: MessagePump, on_change: Callable[[str], None], *, fade: float = TYPING_FADE
    ) -> None:
        self._owner = owner
        self._on_change = on_change
        self.fade = fade
        self._timers: dict[str, Timer] = {}

    def __contains__(self, peer: object) -> bool:
        return peer in self._timers

    def started(self, peer: str) -> None:
        timer = self._timers.get(peer)
        if timer is not None:
            timer.reset()
            return
        self._timers[peer] = self._owner.set_timer(self.fade, partial(self.stopped, peer))
        self._on_change(peer)

    def stopped(self, peer: str) -> None:
        timer = self._timers.pop(peer, None)
        if timer is None:
            return
        timer.stop()
        self._on_change(peer)


def added_note(user: str, before: Contact | None, after: Contact) -> str:
    """What :meth:`SessionScreen.add_contact` did, in words."""
    if before is not None and before.status is after.status:
        if after.status is ContactStatus.REQUESTED:
            return f"You already asked {user}; waiting for them to accept."
        return f"{user} is already your friend."
    if after.status is ContactStatus.REQUESTED:
        return f"Friend request sent to {user}."
    return f"{user} is now your friend."


class SessionScreen(MqchatScreen):
    """A screen of a signed-in user, talking to the session's backend."""

    def __init__(self, session: Session) -> None:
        super().__init__(session.status)
        self.session = session
        self.backend = session.backend

    async def add_contact(self, user: str) -> Contact | None:
        """Ask ``user`` to be a friend, or accept their request, and say which it was;
        a refusal is shown, not raised (``None``)."""
        try:
            before = await self.backend.contact(user)
            after = await self.backend.add_contact(user)
        except InvalidUserName as exc:
            self.notify(str(exc), title="Cannot add", severity="error", markup=False)
            return None
        self.notify(added_note(user, before, after), markup=False)
        return after
