"""The inspector's live message log: the newest messages, one row each (time, QoS,
retain flag, size, topic, preview). It follows the newest row until the user moves
the cursor up; ``end`` follows again. ``enter`` (or moving the cursor) shows the
message under the cursor in the detail pane."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from mqchat.inspector.capture import Captured
from mqchat.widgets.inspector.lines import LineList
from mqchat.widgets.inspector.render import log_row

__all__ = ["MessageLogView"]


class MessageLogView(LineList):
    BINDINGS = [Binding("enter", "pick", "Show", show=False, id="inspector.log.show")]

    class Picked(Message):
        """The user put the cursor on ``message``."""

        def __init__(self, message: Captured) -> None:
            super().__init__()
            self.message = message

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Captured] = []
        self.follow = True
        """Keep the newest row in view (and under the cursor when focused)."""
        self.alerting: frozenset[str] = frozenset()
        """Topics a watch rule holds in alert: their rows are marked."""

    def show(self, rows: Sequence[Captured]) -> None:
        picked = None if self.follow or self.cursor is None else self.rows[self.cursor].seq
        self.rows = list(rows)
        self.set_row_count(len(self.rows))
        if picked is None:
            self.set_cursor(len(self.rows) - 1 if self.rows and self.has_focus else None)
            self.scroll_end(animate=False, immediate=True)
            return
        # The rows are in arrival order: find the picked one again, or the next newer.
        seqs = [m.seq for m in self.rows]
        index = bisect_left(seqs, picked)
        self.set_cursor(min(index, len(self.rows) - 1) if self.rows else None, scroll=False)

    def on_focus(self) -> None:
        if self.cursor is None and self.rows:
            self.set_cursor(len(self.rows) - 1)

    def on_resize(self) -> None:
        if self.follow:
            self.scroll_end(animate=False, immediate=True)

    def row_text(self, index: int, width: int) -> Text:
        message = self.rows[index]
        return log_row(message, width, alert=message.topic in self.alerting)

    def cursor_moved(self) -> None:
        self.follow = self.cursor is None or self.cursor == len(self.rows) - 1
        self.action_pick()

    def action_pick(self) -> None:
        if self.cursor is not None and self.rows:
            self.post_message(self.Picked(self.rows[self.cursor]))

    def action_edge(self, last: int) -> None:
        super().action_edge(last)
        self.follow = bool(last)
