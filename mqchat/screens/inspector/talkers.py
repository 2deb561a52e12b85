"""The inspector's ``t``: the busiest subtrees (msg/s, bytes/s, share, topics) over
the last seconds, by the first 1, 2 or 3 levels of their topics, redrawn every
second. Counting is sampled from the capture only while this view is open; ``enter``
filters the inspector's view to the highlighted subtree."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from mqchat.inspector.talkers import MAX_DEPTH, Talker, TalkerMeter
from mqchat.inspector.topic_tree import EMPTY_LEVEL
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.inspector.render import human_size, safe_topic

__all__ = ["ROWS", "TopTalkersScreen"]

ROWS = 100
"""Subtrees listed at most."""


def _subtree(prefix: str) -> str:
    return safe_topic(prefix) if prefix else EMPTY_LEVEL


class TopTalkersScreen(Screen[str | None]):
    """Rates from ``counts()`` (topic, messages, bytes so far, for every topic) sampled
    every second on ``clock``; dismisses with the chosen subtree, or ``None``."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = [
        Binding("1", "depth(1)", "Depth 1", id="inspector.talkers.depth1"),
        Binding("2", "depth(2)", "Depth 2", id="inspector.talkers.depth2"),
        Binding("3", "depth(3)", "Depth 3", id="inspector.talkers.depth3"),
        Binding("enter", "choose", "Filter to it", id="inspector.talkers.filter"),
        Binding("escape,t,q", "back", "Back", id="inspector.talkers.back"),
    ]

    def __init__(
        self,
        counts: Callable[[], Iterable[tuple[str, int, int]]],
        *,
        clock: Callable[[], float],
        depth: int = 1,
    ) -> None:
        super().__init__()
        self.counts = counts
        self.clock = clock
        self.depth = depth
        self.meter = TalkerMeter()
        self.rows: list[Talker] = []

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="talkers-table", cursor_type="row")
        yield table
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        table.add_column("subtree", key="subtree")
        for column in ("msg/s", "bytes/s", "share", "topics"):
            table.add_column(Text(column, justify="right"), key=column)
        table.focus()
        self.measure()
        self.set_interval(1.0, self.measure)

    def measure(self) -> None:
        """Sample the counts now and redraw."""
        self.meter.sample(self.clock(), self.counts())
        self.show_rates()

    def show_rates(self) -> None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        window = f"{self.meter.window:.0f} s"
        table.border_title = (
            f"Top talkers · depth {self.depth} (1 2 3) · msg/s over the last {window}"
        )
        cursor = table.cursor_row
        table.clear()
        if not self.meter.ready:
            self.rows = []
            table.add_row(Text("measuring…", style="dim italic"), "", "", "", "")
            return
        self.rows = self.meter.top(self.depth, ROWS)
        total = sum(t.rate for t in self.rows) or 1.0
        for talker in self.rows:
            table.add_row(
                Text(_subtree(talker.prefix), style="bold"),
                Text(f"{talker.rate:,.1f}", justify="right"),
                Text(f"{human_size(round(talker.byte_rate))}/s", justify="right"),
                Text(f"{100 * talker.rate / total:.0f} %", justify="right"),
                Text(f"{talker.topics:,}", justify="right", style="dim"),
            )
        if not self.rows:
            table.add_row(Text("nothing captured yet", style="dim italic"), "", "", "", "")
        elif cursor is not None:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    def action_depth(self, depth: int) -> None:
        self.depth = max(1, min(depth, MAX_DEPTH))
        self.show_rates()

    @on(DataTable.RowSelected)
    def action_choose(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if self.rows and row is not None and 0 <= row < len(self.rows):
            self.dismiss(self.rows[row].prefix)

    def action_back(self) -> None:
        self.dismiss(None)
