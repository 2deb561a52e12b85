"""The one-line bar at the top of every screen: who is signed in where, and how the
connection is doing."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.widgets.render import connection_text, safe

__all__ = ["StatusBar", "StatusInfo"]


@dataclass
class StatusInfo:
    """What the status bar shows. The App owns the one instance and updates it as
    backend events arrive; every screen's bar renders from it."""

    identity: str = ""
    """``alice@host:port``; empty before login."""
    connection: ConnectionChanged = field(
        default_factory=lambda: ConnectionChanged(ConnectionState.IDLE)
    )
    rejected: int = 0
    unread: int = 0
    """Unread messages in the conversations not on screen."""

    def left(self) -> Text:
        text = Text("mqchat", style="bold", end="")
        if self.identity:
            text.append(" · ")
            text.append_text(safe(self.identity))
        return text

    def right(self) -> Text:
        text = Text(end="")
        if self.unread:
            text.append(f" {self.unread} unread ", style="bold reverse")
            text.append("  ")
        if self.rejected:
            text.append(f"{self.rejected} rejected", style="bold yellow")
            text.append("  ")
        text.append_text(connection_text(self.connection))
        if self.fallback:
            text.append("  MQTT 3.1.1", style="yellow")
        return text

    @property
    def online(self) -> bool:
        """Connected now: what we hear of others' presence is current."""
        return self.connection.state is ConnectionState.CONNECTED

    @property
    def fallback(self) -> bool:
        """Connected with MQTT 3.1.1 because the broker refused MQTT 5."""
        connection = self.connection
        return connection.state is ConnectionState.CONNECTED and connection.protocol == "3.1.1"


class StatusBar(Widget):
    """``mqchat · alice@host:port`` on the left, ``● connected`` on the right
    (``● connected  MQTT 3.1.1`` when the broker refused MQTT 5), after the count of
    unread messages in other conversations, when there are any."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, info: StatusInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info

    def render(self) -> RenderableType:
        grid = Table.grid(expand=True, padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True, overflow="ellipsis", ratio=1)
        grid.add_row(self.info.left(), self.info.right())
        return grid
