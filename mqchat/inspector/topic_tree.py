"""The topic tree of what was received: one node per topic level, message counts
summed per subtree (kept current on each message in O(depth)), the last payload of
each topic, and the rows a tree widget shows for a set of expanded paths."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from mqchat.core.text import display_safe
from mqchat.inspector.payload import preview

__all__ = ["PREVIEW_BYTES", "TopicTree", "TreeRow"]

PREVIEW_BYTES = 256
"""Bytes of a topic's last payload the tree keeps: enough for a preview or a number."""
EMPTY_LEVEL = "∅"
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One visible line of the tree. ``path`` is the topic of the node (levels joined
    by ``/``); ``count`` sums the node's own messages and its subtree's; ``last`` is
    a preview of the node's own last payload, empty when nothing was published to
    exactly this topic."""

    path: str
    depth: int
    label: str
    count: int
    has_children: bool
    expanded: bool
    last: str
    is_topic: bool


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """``room2`` before ``room10``."""
    return tuple(
        (0, int(part)) if part.isdigit() and len(part) < 20 else (1, part.casefold())
        for part in _DIGITS.split(name)
    )


class _Node:
    __slots__ = (
        "children",
        "count",
        "last",
        "last_size",
        "name",
        "own",
        "parent",
        "path",
        "sorted",
    )

    def __init__(self, name: str, path: str, parent: _Node | None) -> None:
        self.name = name
        self.path = path
        self.parent = parent
        self.children: dict[str, _Node] | None = None
        self.sorted: list[_Node] | None = None  # children in display order, built lazily
        self.count = 0  # messages in this subtree, this node's own included
        self.own = 0  # messages published to exactly this topic
        self.last: bytes | None = None
        self.last_size = 0


class TopicTree:
    """Topics split on ``/`` into levels. Empty levels are nodes too (``a//b`` has an
    empty middle level, ``/a`` an empty first one) and ``$SYS`` is a root like any
    other. Only counts of topics still in the tree are summed: :meth:`forget` takes a
    topic's messages out of its ancestors' counts."""

    __slots__ = ("_leaves", "_root")

    def __init__(self) -> None:
        self._root = _Node("", "", None)
        self._leaves: dict[str, _Node] = {}  # topic → its node, the fast path of add()

    def add(self, topic: str, payload: bytes, count: int = 1, size: int | None = None) -> None:
        """Count ``count`` messages on ``topic``, ``payload`` being the newest (``size``
        its original length when ``payload`` is already a cut)."""
        node = self._leaves.get(topic)
        if node is None:
            node = self._insert(topic)
        node.own += count
        node.last = payload if len(payload) <= PREVIEW_BYTES else payload[:PREVIEW_BYTES]
        node.last_size = len(payload) if size is None else size
        walk: _Node | None = node
        while walk is not None:
            walk.count += count
            walk = walk.parent

    def _insert(self, topic: str) -> _Node:
        node = self._root
        levels = topic.split("/")
        for depth, name in enumerate(levels):
            children = node.children
            if children is None:
                children = node.children = {}
            child = children.get(name)
            if child is None:
                path = topic if depth == len(levels) - 1 else "/".join(levels[: depth + 1])
                child = children[name] = _Node(name, path, node)
                node.sorted = None
            node = child
        self._leaves[topic] = node
        return node

    def forget(self, topic: str) -> None:
        """Drop ``topic``'s own messages and last value; nodes left empty go too."""
        node = self._leaves.pop(topic, None)
        if node is None:
            return
        gone, node.own, node.last, node.last_size = node.own, 0, None, 0
        walk: _Node | None = node
        while walk is not None:
            walk.count -= gone
            walk = walk.parent
        while node.parent is not None and node.count == 0 and not node.children:
            parent = node.parent
            assert parent.children is not None
            del parent.children[node.name]
            if not parent.children:
                parent.children = None
            parent.sorted = None
            node = parent

    def clear(self) -> None:
        self._root = _Node("", "", None)
        self._leaves = {}

    @property
    def total(self) -> int:
        """Messages counted on every topic in the tree."""
        return self._root.count

    @property
    def topic_count(self) -> int:
        return len(self._leaves)

    def count(self, path: str) -> int:
        """Messages in the subtree at ``path`` (0 when there is none)."""
        node = self._find(path)
        return 0 if node is None else node.count

    def _find(self, path: str) -> _Node | None:
        node: _Node | None = self._leaves.get(path)
        if node is not None:
            return node
        node = self._root
        for name in path.split("/"):
            if node.children is None:
                return None
            node = node.children.get(name)
            if node is None:
                return None
        return node

    def topics_under(self, path: str) -> list[str]:
        """Every topic with messages at ``path`` or below it, in display order."""
        start = self._find(path)
        if start is None:
            return []
        found: list[str] = []
        stack = [start]
        while stack:
            node = stack.pop()
            if node.own:
                found.append(node.path)
            stack.extend(reversed(self._children(node)))
        return found

    def _children(self, node: _Node) -> list[_Node]:
        if node.children is None:
            return []
        if node.sorted is None:
            node.sorted = sorted(node.children.values(), key=lambda n: (_natural(n.name), n.name))
        return node.sorted

    def visible_rows(
        self,
        expanded: Container[str],
        *,
        limit: int | None = None,
        preview_width: int = 24,
    ) -> list[TreeRow]:
        """The rows of the tree with the nodes whose path is in ``expanded`` opened,
        depth first in display order (natural sort: ``room2`` before ``room10``), at
        most ``limit`` of them."""
        rows: list[TreeRow] = []
        stack = [(child, 0) for child in reversed(self._children(self._root))]
        while stack and (limit is None or len(rows) < limit):
            node, depth = stack.pop()
            is_open = node.children is not None and node.path in expanded
            last = ""
            if node.last is not None:
                last = preview(node.last, preview_width, size=node.last_size)
            rows.append(
                TreeRow(
                    path=node.path,
                    depth=depth,
                    label=display_safe(node.name).replace("\n", " ") or EMPTY_LEVEL,
                    count=node.count,
                    has_children=node.children is not None,
                    expanded=is_open,
                    last=last,
                    is_topic=node.own > 0,
                )
            )
            if is_open:
                stack.extend((child, depth + 1) for child in reversed(self._children(node)))
        return rows
