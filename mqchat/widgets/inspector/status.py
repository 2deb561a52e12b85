"""The inspector's status line: what is subscribed (and the view filter) on the left;
the total message count, msg/s, paused or not, and the connection on the right."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from textual.widget import Widget

from mqchat.widgets.inspector.render import StatusFigures, status_left, status_right

__all__ = ["InspectorStatus"]


class InspectorStatus(Widget):
    DEFAULT_CSS = """
    InspectorStatus {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.figures: StatusFigures | None = None

    def show(self, figures: StatusFigures) -> None:
        if figures != self.figures:
            self.figures = figures
            self.refresh()

    def render(self) -> RenderableType:
        if self.figures is None:
            return ""
        grid = Table.grid(expand=True, padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        grid.add_column(justify="right", no_wrap=True, overflow="ellipsis")
        grid.add_row(status_left(self.figures), status_right(self.figures))
        return grid
