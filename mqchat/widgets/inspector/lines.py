"""A scrollable list of one-line rows with a cursor, drawn with Textual's line API:
only the rows on screen are rendered, whatever the number of rows, and the widget
tree never grows. The inspector's topic tree and message log are built on it."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["LineList"]


class LineList(ScrollView, can_focus=True):
    """Rows are drawn by :meth:`row_text`; subclasses keep the data and call
    :meth:`set_row_count` when it changes. The cursor moves with the arrow keys or a
    click on a row, and :meth:`cursor_moved` hears of it."""

    COMPONENT_CLASSES = {"line-list--cursor"}
    DEFAULT_CSS = """
    LineList {
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .line-list--cursor {
            background: $block-cursor-blurred-background;
        }
        &:focus > .line-list--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
        }
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="inspector.list.up"),
        Binding("down", "move(1)", "Down", show=False, id="inspector.list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="inspector.list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="inspector.list.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="inspector.list.first"),
        Binding("end", "edge(1)", "Last", show=False, id="inspector.list.last"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row_count = 0
        self.cursor: int | None = None

    # -- for subclasses ---------------------------------------------------------

    def row_text(self, index: int, width: int) -> Text:
        """The row at ``index``, at most ``width`` cells."""
        raise NotImplementedError

    def cursor_moved(self) -> None:
        """The user moved the cursor (not called for :meth:`set_cursor`)."""

    def clickable(self, index: int) -> bool:
        """Whether row ``index`` holds something a click can select."""
        return index < self.row_count

    def clicked_again(self) -> None:
        """The user clicked the row already under the cursor (it is said again)."""
        self.cursor_moved()

    def set_row_count(self, count: int) -> None:
        self.row_count = count
        if self.cursor is not None and count:
            self.cursor = min(self.cursor, count - 1)
        elif not count:
            self.cursor = None
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        self.refresh()

    def set_cursor(self, index: int | None, *, scroll: bool = True) -> None:
        self.cursor = None if index is None or not self.row_count else index
        if scroll and self.cursor is not None:
            self._scroll_to_cursor()
        self.refresh()

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= self.row_count or width <= 0:
            return Strip.blank(width, base)
        text = self.row_text(index, width)
        text.truncate(width, pad=True)
        text.stylize_before(base)
        if index == self.cursor:
            text.stylize(self.get_component_rich_style("line-list--cursor"))
        strip = Strip(text.render(self.app.console), width)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # -- moving ---------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """A click on a row puts the cursor there; below the last row it does nothing."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = int(self.scroll_offset.y) + offset.y
        if index < 0 or not self.clickable(index):
            return
        event.stop()
        if index == self.cursor:
            self.clicked_again()
        else:
            self._move_to(index)

    def _scroll_to_cursor(self) -> None:
        if self.cursor is None:
            return
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        if not self.row_count:
            return
        index = max(0, min(index, self.row_count - 1))
        if index == self.cursor:
            return
        self.set_cursor(index)
        self.cursor_moved()

    def action_move(self, delta: int) -> None:
        if self.cursor is None:
            self._move_to(self.row_count - 1 if delta < 0 else 0)
        else:
            self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        step = max(self.scrollable_content_region.height - 1, 1)
        self._move_to((self.cursor or 0) + direction * step)

    def action_edge(self, last: int) -> None:
        self._move_to(self.row_count - 1 if last else 0)
