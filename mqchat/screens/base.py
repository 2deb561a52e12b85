"""What every mqchat screen shares: the session it shows, a status bar on top and
the key footer at the bottom."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from mqchat.backend import ChatBackend
from mqchat.domain import InvalidUserName
from mqchat.ui_messages import ConnectionChangedMsg, RejectedMsg
from mqchat.widgets.status_bar import StatusBar, StatusInfo

__all__ = ["MqchatScreen", "Session", "SessionScreen"]


@dataclass(frozen=True)
class Session:
    """A signed-in user: the backend to talk to, the shared status and the clock."""

    backend: ChatBackend
    status: StatusInfo
    clock: Callable[[], datetime]


class MqchatScreen(Screen[None]):
    """A screen with the status bar above its body and the footer below it."""

    def __init__(self, status: StatusInfo) -> None:
        super().__init__()
        self.status = status

    def compose(self) -> ComposeResult:
        yield StatusBar(self.status)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterable[Widget]:
        """The widgets between the status bar and the footer."""
        return ()

    def refresh_status(self) -> None:
        self.query_one(StatusBar).refresh()

    def on_connection_changed_msg(self, _msg: ConnectionChangedMsg) -> None:
        self.refresh_status()

    def on_rejected_msg(self, _msg: RejectedMsg) -> None:
        self.refresh_status()

    def on_screen_resume(self) -> None:
        self.refresh_status()


class SessionScreen(MqchatScreen):
    """A screen of a signed-in user, talking to the session's backend."""

    def __init__(self, session: Session) -> None:
        super().__init__(session.status)
        self.session = session
        self.backend = session.backend

    async def add_contact(self, user: str) -> bool:
        """Add ``user`` as a contact; a refusal is shown, not raised."""
        try:
            await self.backend.add_contact(user)
        except InvalidUserName as exc:
            self.notify(str(exc), title="Cannot add", severity="error", markup=False)
            return False
        return True
