"""The topic tree of what was received: one node per topic level, message counts
summed per subtree (kept current on each message in O(depth)), the last payload of
each topic, and the rows a tree widget shows for a set of expanded paths.

A node keeps its own level's name only: a topic's full name is built when a row or
a lookup needs it, so a topic costs memory linear in its length however deep it is.
Levels beyond :data:`MAX_LEVELS` are folded into one node, marked as cut."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from mqchat.core.text import display_safe
from mqchat.inspector.payload import preview

__all__ = ["MAX_LEVELS", "PREVIEW_BYTES", "TopicTree", "TreeRow", "folded_levels", "topic_levels"]

PREVIEW_BYTES = 256
"""Bytes of a topic's last payload the tree keeps: enough for a preview or a number."""
MAX_LEVELS = 256
"""Nodes one topic makes at most: the levels of a deeper topic from this one on are
one node (its name is the rest of the topic, ``/`` included), marked as cut."""
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
    folded: int = 0


def folded_levels(topic: str) -> int:
    """How many levels of ``topic`` the tree folds into its last node (0: none)."""
    if len(topic) < MAX_LEVELS:  # fewer than MAX_LEVELS slashes
        return 0
    levels = topic.count("/") + 1
    return levels - MAX_LEVELS + 1 if levels > MAX_LEVELS else 0


def topic_levels(topic: str) -> list[str]:
    """``topic``'s levels, those beyond :data:`MAX_LEVELS` joined into the last."""
    return topic.split("/", MAX_LEVELS - 1)


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
        "sorted",
    )

    def __init__(self, name: str, parent: _Node | None) -> None:
        self.name = name  # this level only (the folded rest for a cut node)
        self.parent = parent
        self.children: dict[str, _Node] | None = None
        self.sorted: list[_Node] | None = None  # children in display order, built lazily
        self.count = 0  # messages in this subtree, this node's own included
        self.own = 0  # messages published to exactly this topic
        self.last: bytes | None = None
        self.last_size = 0

    def path(self) -> str:
        """The full topic of this node, built on demand (O(length))."""
        names = []
        node: _Node | None = self
        while node is not None and node.parent is not None:
            names.append(node.name)
            node = node.parent
        names.reverse()
        return "/".join(names)


class TopicTree:
    """Topics split on ``/`` into levels. Empty levels are nodes too (``a//b`` has an
    empty middle level, ``/a`` an empty first one) and ``$SYS`` is a root like any
    other. Only counts of topics still in the tree are summed: :meth:`forget` takes a
    topic's messages out of its ancestors' counts."""

    __slots__ = ("_leaves", "_root")

    def __init__(self) -> None:
        self._root = _Node("", None)
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
        for name in topic_levels(topic):
            children = node.children
            if children is None:
                children = node.children = {}
            child = children.get(name)
            if child is None:
                child = children[name] = _Node(name, node)
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
        self._root = _Node("", None)
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
        for name in topic_levels(path):
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
        stack = [(start, start.path())]
        while stack:
            node, node_path = stack.pop()
            if node.own:
                found.append(node_path)
            stack.extend((c, f"{node_path}/{c.name}") for c in reversed(self._children(node)))
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
        stack = [(child, 0, child.name) for child in reversed(self._children(self._root))]
        while stack and (limit is None or len(rows) < limit):
            node, depth, path = stack.pop()
            is_open = node.children is not None and path in expanded
            last = ""
            if node.last is not None:
                last = preview(node.last, preview_width, size=node.last_size)
            folded = 0 if depth < MAX_LEVELS - 1 else node.name.count("/") + 1
            rows.append(
                TreeRow(
                    path=path,
                    depth=depth,
                    label=_label(node.name, folded),
                    count=node.count,
                    has_children=node.children is not None,
                    expanded=is_open,
                    last=last,
                    is_topic=node.own > 0,
                    folded=folded if folded > 1 else 0,
                )
            )
            if is_open:
                children = reversed(self._children(node))
                stack.extend((c, depth + 1, f"{path}/{c.name}") for c in children)
        return rows


_LABEL_CHARS = 200  # of a folded node's name: more than a tree row can show


def _label(name: str, folded: int) -> str:
    shown = name if folded <= 1 else name[:_LABEL_CHARS]
    return display_safe(shown).replace("\n", " ") or EMPTY_LEVEL
