"""The inspector's topic tree: one row per visible node of a
:class:`~mqchat.inspector.topic_tree.TopicTree`, with its message count and last
value. The first levels open by themselves; ``right``/``enter`` open a node,
``left`` closes it or goes to its parent. A click selects a row; a click on the
selected row opens or closes it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from mqchat.inspector.topic_tree import TopicTree, TreeRow, topic_levels
from mqchat.widgets.inspector.lines import LineList
from mqchat.widgets.inspector.render import tree_row

__all__ = ["AUTO_OPEN_DEPTH", "MAX_TREE_ROWS", "TopicTreeView"]

MAX_TREE_ROWS = 20_000
"""Rows reachable at most: a node with 50,000 children opened by mistake must not
cost a second per frame."""
WINDOW = 100
"""Rows computed beyond the last one on screen (or under the cursor): each refresh
costs what is seen, not the whole tree; scrolling further computes more."""
AUTO_OPEN_DEPTH = 2
"""Nodes this shallow (``home``, ``home/room1``) are open until the user closes them."""


@dataclass
class _Expansion:
    """Which nodes are open: the shallow ones unless closed, any other once opened."""

    opened: set[str]
    closed: set[str]

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str) or path in self.closed:
            return False
        return path in self.opened or path.count("/") < AUTO_OPEN_DEPTH


class TopicTreeView(LineList):
    BINDINGS = [
        Binding("right,enter", "open", "Open", show=False, id="inspector.tree.open"),
        Binding("left", "close", "Close", show=False, id="inspector.tree.close"),
    ]

    class Highlighted(Message):
        """The cursor is on ``row`` now (``None``: the tree is empty)."""

        def __init__(self, row: TreeRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[TreeRow] = []
        self.expansion = _Expansion(set(), set())
        self.selected: str | None = None
        """The path under the cursor, kept across refreshes."""
        self.more = False
        """Rows beyond :attr:`rows` exist but were not computed yet."""
        self._tree: TopicTree | None = None
        self.alerting: frozenset[str] = frozenset()
        """Topics a watch rule holds in alert: their rows are marked."""
        self._alert_below: frozenset[str] = frozenset()

    def mark(self, topics: frozenset[str]) -> None:
        """Mark the rows of ``topics``, and their ancestors' (an alert stays in
        sight when its branch is closed)."""
        self.alerting = topics
        below: set[str] = set()
        for topic in topics:
            cut = topic.rfind("/")
            while cut > 0:
                below.add(topic[:cut])
                cut = topic.rfind("/", 0, cut)
        self._alert_below = frozenset(below)
        self.refresh()

    def show(self, tree: TopicTree, *, reach: int = 0) -> None:
        """Recompute the rows from ``tree`` down to the screen's last row (or row
        ``reach``); the cursor stays on the same path."""
        self._tree = tree
        width = max(self.scrollable_content_region.width, 20)
        height = max(self.scrollable_content_region.height, 10)
        bottom = max(int(self.scroll_offset.y) + height, (self.cursor or 0) + 1, reach + 1)
        limit = min(bottom + WINDOW, MAX_TREE_ROWS)
        self.rows = tree.visible_rows(self.expansion, limit=limit, preview_width=max(width // 3, 6))
        self.more = len(self.rows) == limit < MAX_TREE_ROWS
        # While more rows exist, a screenful of room below lets one scroll on to them.
        self.set_row_count(len(self.rows) + (height if self.more else 0))
        index = self._index_of(self.selected)
        self.set_cursor(index, scroll=index is not None)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        height = self.scrollable_content_region.height
        if self.more and self._tree is not None and new_value + height > len(self.rows):
            self.call_later(self.show, self._tree)

    def _move_to(self, index: int) -> None:
        if self.more and self._tree is not None and index >= len(self.rows) - 1:
            self.show(self._tree, reach=index)
        super()._move_to(min(index, len(self.rows) - 1))

    def _index_of(self, path: str | None) -> int | None:
        if path is None:
            return None
        return next((i for i, row in enumerate(self.rows) if row.path == path), None)

    def row_text(self, index: int, width: int) -> Text:
        if index >= len(self.rows):
            return Text("…", style="dim")  # computed once scrolled to
        row = self.rows[index]
        alert = 2 if row.path in self.alerting else 1 if row.path in self._alert_below else 0
        return tree_row(row, width, alert=alert)

    @property
    def highlighted(self) -> TreeRow | None:
        if self.cursor is None or self.cursor >= len(self.rows):
            return None
        return self.rows[self.cursor]

    def clickable(self, index: int) -> bool:
        return index < len(self.rows)  # not the "…" of rows not computed yet

    def clicked_again(self) -> None:
        """A click on the selected row opens it, or closes it when open."""
        row = self.highlighted
        if row is not None and row.has_children:
            if row.expanded:
                self.action_close()
            else:
                self.action_open()

    def cursor_moved(self) -> None:
        row = self.highlighted
        self.selected = None if row is None else row.path
        self.post_message(self.Highlighted(row))

    def select(self, path: str) -> None:
        """Put the cursor on ``path`` (opening its ancestors) and say so."""
        ancestor = ""
        for level in topic_levels(path)[:-1]:  # a folded rest is one level
            ancestor = f"{ancestor}/{level}" if ancestor else level
            self.expansion.closed.discard(ancestor)
            self.expansion.opened.add(ancestor)
        self.selected = path
        if self._tree is not None:
            self.show(self._tree)
            if self.highlighted is None:  # below the rows computed so far
                self.show(self._tree, reach=MAX_TREE_ROWS)
                self.call_after_refresh(self._scroll_to_cursor)  # once the new size counts
        self.post_message(self.Highlighted(self.highlighted))

    def action_edge(self, last: int) -> None:
        if last and self.more and self._tree is not None:
            self.show(self._tree, reach=MAX_TREE_ROWS)
        super().action_edge(last)

    def action_open(self) -> None:
        row = self.highlighted
        if row is None or not row.has_children or row.expanded:
            return
        self.expansion.closed.discard(row.path)
        self.expansion.opened.add(row.path)
        if self._tree is not None:
            self.show(self._tree)

    def action_close(self) -> None:
        row = self.highlighted
        if row is None:
            return
        if row.has_children and row.expanded:
            self.expansion.opened.discard(row.path)
            self.expansion.closed.add(row.path)
            if self._tree is not None:
                self.show(self._tree)
            return
        index = self.cursor or 0
        parent = next((i for i in range(index, -1, -1) if self.rows[i].depth < row.depth), None)
        if parent is not None:
            self._move_to(parent)
