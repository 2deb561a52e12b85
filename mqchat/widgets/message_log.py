"""A conversation's messages: one row per message (time, sender, body, delivery
mark) in a scrolling column that reports when the user reaches its top. Bodies are
drawn literally and capped (see :func:`~mqchat.widgets.render.body_text`)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget

from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.widgets.render import body_text, clock_time, delivery_mark, safe, set_aside_note

__all__ = ["MessageLog", "MessageRow", "advances", "message_body", "message_table"]

# How far along its way a message is: a state update never moves it backwards
# (a late "sent" must not hide an earlier "read").
_RANK = {
    DeliveryState.PENDING: 0,
    DeliveryState.FAILED: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.READ: 4,
    DeliveryState.RECEIVED: 4,
}


def advances(old: DeliveryState, new: DeliveryState) -> bool:
    """Whether ``new`` is news after ``old`` (failed may follow pending only)."""
    if new is DeliveryState.FAILED:
        return old is DeliveryState.PENDING
    return _RANK[new] > _RANK[old]


def message_body(message: ChatMessage) -> Text:
    """What is drawn of the body, and under it, for a message whose sender's time was
    set aside, the time they claimed (see :func:`~mqchat.widgets.render.set_aside_note`)."""
    body = body_text(message.body)
    if message.claimed_ts is not None:
        body.append("\n")
        body.append_text(set_aside_note(message.claimed_ts))
    return body


def message_table(
    message: ChatMessage,
    state: DeliveryState,
    peer_label: str,
    sender_width: int,
    body: Text | None = None,
) -> Table:
    """``14:01 you    yes, on my way   ✓✓``; the body wraps under itself. ``body`` is
    the message's :func:`message_body` if already made."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=5, no_wrap=True)
    grid.add_column(width=sender_width, no_wrap=True, overflow="ellipsis")
    grid.add_column(ratio=1, overflow="fold")
    grid.add_column(width=2, no_wrap=True)
    sender = (
        Text("you", style="bold cyan", end="")
        if message.outgoing
        else safe(peer_label, "bold green")
    )
    grid.add_row(
        Text(clock_time(message.ts), style="dim", end=""),
        sender,
        body if body is not None else message_body(message),
        delivery_mark(state) if message.outgoing else Text(),
    )
    return grid


class MessageRow(Widget):
    """One message; own messages carry the ``-own`` class and a delivery mark."""

    DEFAULT_CSS = """
    MessageRow {
        height: auto;
        padding: 0 1;
    }
    MessageRow.-own {
        background: $boost;
    }
    """

    def __init__(self, message: ChatMessage, peer_label: str, sender_width: int) -> None:
        super().__init__(classes="-own" if message.outgoing else "-peer")
        self.message = message
        self.state = message.state
        self.peer_label = peer_label
        self.sender_width = sender_width
        self.body = message_body(message)
        """What is drawn of the body (made once: bodies can be huge)."""

    def set_state(self, state: DeliveryState) -> None:
        if advances(self.state, state):
            self.state = state
            self.refresh(layout=True)

    @property
    def plain(self) -> str:
        """What the row says, as plain text (for tests and screen readers)."""
        mark = delivery_mark(self.state).plain if self.message.outgoing else ""
        sender = "you" if self.message.outgoing else self.peer_label
        return f"{clock_time(self.message.ts)} {sender} {self.body.plain} {mark}"

    def render(self) -> RenderableType:
        return message_table(
            self.message, self.state, self.peer_label, self.sender_width, self.body
        )


class MessageLog(VerticalScroll):
    """The scrolling column of :class:`MessageRow`; posts :class:`ReachedTop` when the
    user scrolls up to the oldest loaded message."""

    class ReachedTop(Message):
        """Time to load an older page."""

    @property
    def following(self) -> bool:
        """Kept at the newest row: anchored, and not scrolled away by the user.
        (Textual keeps "scrolled away" private; it only exposes the anchor.)"""
        return self.is_anchored and not getattr(self, "_anchor_released", False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # max_scroll_y > 0: a real scroll, not the layout settling after a mount.
        if new_value <= 0 < old_value and self.max_scroll_y > 0:
            self.post_message(self.ReachedTop())
