"""A JSON document as a collapsible tree (Textual's ``Tree``): objects and arrays open
and close with enter or space, and their children are made only when they are first
opened, at most :data:`CHUNK` at a time (a last row, ``… N more``, adds the next
ones), so a document of a hundred thousand values opens at once. Keys and values come
from the network: every label is a ``Text`` of terminal-safe characters, never read
as markup, one line each."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from mqchat.core.text import display_safe
from mqchat.inspector.payload import safe_json_dumps

__all__ = ["CHUNK", "Branch", "JsonTree", "label_for"]

CHUNK = 200
"""Children of an object or array added at a time."""
KEY_WIDTH = 60
VALUE_WIDTH = 200
_LINE_BREAKS = str.maketrans({"\r": "⏎", "\n": "⏎"})


@dataclass(slots=True)
class Branch:
    """A node's data: the value under it (an object or array for a branch) and how
    many of its children were added so far; ``more_of``: this row is the ``… N more``
    row of that branch node."""

    value: Any
    added: int = 0
    more_of: TreeNode[Branch] | None = None


def _one_line(text: str, width: int) -> str:
    text = display_safe(text).translate(_LINE_BREAKS)
    return text if len(text) <= width else text[: width - 1] + "…"


def _scalar(value: Any) -> Text:
    style = {str: "green", bool: "yellow", type(None): "dim"}.get(type(value), "cyan")
    try:
        shown = safe_json_dumps(value)
    except (ValueError, RecursionError):  # a float the codecs left as NaN, say
        shown = repr(value)
    return Text(_one_line(shown, VALUE_WIDTH), style=style)


def label_for(key: str | int | None, value: Any) -> Text:
    """``key: value`` (or ``key {12}`` / ``key [3]`` for a branch), safe and on one line."""
    text = Text(end="")
    if key is not None:
        text.append(_one_line(str(key), KEY_WIDTH), style="bold" if isinstance(key, str) else "dim")
        text.append(": " if not isinstance(value, dict | list) else " ")
    if isinstance(value, dict):
        text.append(f"{{{len(value):,}}}", style="magenta")
    elif isinstance(value, list):
        text.append(f"[{len(value):,}]", style="magenta")
    else:
        text.append_text(_scalar(value))
    return text


class JsonTree(Tree[Branch]):
    """``value`` as a tree; the root (``label``) opens on mount."""

    def __init__(self, label: str, value: Any, *, id: str | None = None) -> None:
        super().__init__(Text(_one_line(label, VALUE_WIDTH), style="bold"), Branch(value), id=id)
        self.show_root = True
        self.guide_depth = 2

    def process_label(self, label: str | Text) -> Text:
        # A str label would be read as markup: never from here.
        text = label if isinstance(label, Text) else Text(label)
        return text.split()[0] if text.plain else text

    def on_mount(self) -> None:
        data = self.root.data
        self.root.allow_expand = data is not None and isinstance(data.value, dict | list)
        self.root.expand()
        self._fill(self.root)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Branch]) -> None:
        self._fill(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Branch]) -> None:
        data = event.node.data
        if data is not None and data.more_of is not None:  # "… N more": the next ones
            branch = data.more_of
            event.node.remove()
            self._fill(branch, more=True)

    def _fill(self, node: TreeNode[Branch], *, more: bool = False) -> None:
        data = node.data
        if data is None or (data.added and not more):
            return
        value = data.value
        if isinstance(value, dict):
            keys = islice(value, data.added, data.added + CHUNK)
            items: list[tuple[str | int, Any]] = [(key, value[key]) for key in keys]
        elif isinstance(value, list):
            items = list(enumerate(value[data.added : data.added + CHUNK], start=data.added))
        else:
            return
        for key, child in items:
            branch = isinstance(child, dict | list) and len(child) > 0
            node.add(label_for(key, child), Branch(child), allow_expand=branch)
        data.added += len(items)
        left = len(value) - data.added
        if left > 0:
            label = Text(f"… {left:,} more (enter adds {min(left, CHUNK)})", style="dim italic")
            node.add_leaf(label, Branch(None, more_of=node))
