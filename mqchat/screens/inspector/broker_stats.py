"""The broker stats view: what the broker says about itself on ``$SYS/#`` (version,
uptime, clients, message and byte counts, load), redrawn every second from the
inspector's capture. A broker that publishes no ``$SYS`` is said to, not waited for
in silence."""

from __future__ import annotations

from collections.abc import Callable
from itertools import zip_longest

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from mqchat.inspector.capture import Captured
from mqchat.inspector.sys_stats import SYS_FILTER, headline_figures, sys_value
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.inspector.render import clock_ms, plural, safe_topic

__all__ = ["QUIET_AFTER", "BrokerStatsScreen"]

QUIET_AFTER = 15.0
"""Seconds without any ``$SYS`` message before saying the broker publishes none
(mosquitto publishes every ``sys_interval``, 10 s by default)."""


class BrokerStatsScreen(Screen[None]):
    """``$SYS`` figures of ``broker``: ``lookup()`` gives topic → newest message of
    every ``$SYS`` topic captured; ``since`` is when the subscription was made."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = [
        Binding("escape,b,q", "back", "Back", id="inspector.sys.back"),
    ]

    def __init__(
        self,
        broker: str,
        lookup: Callable[[], dict[str, Captured]],
        *,
        since: float,
        clock: Callable[[], float],
    ) -> None:
        super().__init__()
        self.broker = broker
        self.lookup = lookup
        self.since = since
        self.clock = clock
        self._rows: dict[str, int] = {}
        """Topic → seq of the message its table row shows."""

    def compose(self) -> ComposeResult:
        head = Static(id="sys-head")
        head.border_title = f"Broker stats · {self.broker}"
        yield head
        table: DataTable[str | Text] = DataTable(id="sys-table", cursor_type="row")
        table.border_title = SYS_FILTER
        yield table
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("topic", key="topic")
        table.add_column("value", key="value")
        table.add_column("at", key="at")
        table.focus()
        self.refresh_figures()
        self.set_interval(1.0, self.refresh_figures)

    def refresh_figures(self) -> None:
        last = self.lookup()
        self.query_one("#sys-head", Static).update(self._head(last))
        table: DataTable[str | Text] = self.query_one(DataTable)
        added = False
        for topic, message in last.items():
            shown = self._rows.get(topic)
            if shown == message.seq:
                continue
            # Text, not str: a DataTable reads a str cell as markup, and these come
            # from the network.
            value, at = Text(sys_value(message.payload)), Text(clock_ms(message.ts))
            if shown is None:
                table.add_row(Text(safe_topic(topic)), value, at, key=topic)
                added = True
            else:
                table.update_cell(topic, "value", value)
                table.update_cell(topic, "at", at)
            self._rows[topic] = message.seq
        if added:
            table.sort("topic", key=lambda topic: topic.plain)

    def _head(self, last: dict[str, Captured]) -> RenderableType:
        if not last:
            waited = self.clock() - self.since
            if waited < QUIET_AFTER:
                return Text(
                    f"Subscribed to {SYS_FILTER}; waiting for the broker's statistics "
                    "(mosquitto sends them every sys_interval, 10 s by default)…",
                    style="dim italic",
                )
            return Text(
                f"No $SYS topics arrived in {waited:.0f} s: this broker publishes none, or "
                "this login may not read them (an ACL). The stats view needs a broker that "
                "publishes $SYS/#.",
                style="bold yellow",
            )
        figures = headline_figures(last)
        grid = Table.grid(padding=(0, 2))
        for style in ("dim", "bold", "dim", "bold"):  # two columns of label, value
            grid.add_column(style=style, justify="right" if style == "dim" else "left")
        half = (len(figures) + 1) // 2
        for left, right in zip_longest(figures[:half], figures[half:]):
            cells = [left.label, left.value] if left else ["", ""]
            cells += [right.label, right.value] if right else ["", ""]
            grid.add_row(*(Text(cell) for cell in cells))
        return Group(grid, Text(f"{plural(len(last), '$SYS topic')} below", style="dim italic"))

    def action_back(self) -> None:
        self.dismiss()
