"""What the inspector's log and tree show of everything captured: the view filter
(a topic wildcard and payload text), the newest matching messages (bounded), and the
tree of matching topics. It feeds the model too, so one loop over each batch of
messages does all of it. No widgets here: the screen draws from it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mqchat.core.topic_filter import compile_filter
from mqchat.inspector.backend import Received
from mqchat.inspector.capture import Captured, CaptureStore
from mqchat.inspector.model import InspectorModel
from mqchat.inspector.topic_tree import TopicTree

__all__ = ["LOG_ROWS", "InspectorView", "ViewFilter"]

LOG_ROWS = 500
"""Rows the log keeps: older messages stay in the capture (and the export)."""


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """Topics matching ``topic`` (a wildcard filter) and payloads containing ``text``
    (ASCII letters in any case). With ``text`` the tree counts only the matching
    messages: those kept when the filter was set, and those received since."""

    topic: str | None = None
    text: str | None = None

    def __bool__(self) -> bool:
        return bool(self.topic or self.text)

    def describe(self) -> str:
        parts = []
        if self.topic:
            parts.append(self.topic)
        if self.text:
            parts.append(f'"{self.text}"')
        return " ".join(parts)


class InspectorView:
    """The model and what of it is in view. The capture is never filtered: the view
    filter only chooses what the log and the tree show (and what is exported)."""

    __slots__ = ("_filtered_tree", "_log_match", "filter", "log_rows", "model")

    def __init__(self, model: InspectorModel) -> None:
        self.model = model
        self.filter = ViewFilter()
        self.log_rows: deque[Captured] = deque(maxlen=LOG_ROWS)
        """The newest messages that pass the filter, oldest first."""
        self._log_match: Callable[[Captured], bool] | None = None
        """What passes the filter; ``None``: everything."""
        self._filtered_tree: TopicTree | None = None
        """The tree of what passes the filter; ``None``: the model's own tree."""
        model.store.on_forget = self._forget

    @property
    def tree(self) -> TopicTree:
        """The topics in view: all of them, or those with messages that pass the filter."""
        return self._filtered_tree if self._filtered_tree is not None else self.model.tree

    def ingest(self, batch: Iterable[Received]) -> int:
        """Capture ``batch`` and keep the view current; returns how many. The hot
        loop of the inspector: locals only, one call into the model per message."""
        model = self.model
        capture, tree_add, meter_add = model.store.ingest, model.tree.add, model.meter.add
        clock = model.clock
        log, log_match, filtered = self.log_rows, self._log_match, self._filtered_tree
        count = 0
        for topic, payload, qos, retain, properties, ts, size in batch:
            # InspectorModel.ingest, inlined: one call less per message
            if ts is None:
                ts = clock()
            message = capture(topic, payload, qos, retain, properties, ts, size)
            tree_add(message.topic, message.payload, size=message.size)
            meter_add(1, ts)
            count += 1
            if log_match is None:
                log.append(message)
            elif log_match(message):
                log.append(message)
                if filtered is not None:
                    filtered.add(message.topic, message.payload, size=message.size)
        return count

    def _forget(self, topic: str) -> None:
        """The capture store forgot a topic (its cap on topics): so do the trees."""
        self.model.tree.forget(topic)
        if self._filtered_tree is not None:
            self._filtered_tree.forget(topic)

    def set_filter(self, chosen: ViewFilter) -> None:
        """Show only what ``chosen`` lets through, from what is captured now on.
        Raises :class:`~mqchat.core.topic_filter.InvalidFilter`."""
        store = self.model.store
        topic_match = compile_filter(chosen.topic) if chosen.topic else None
        needle = chosen.text.encode("utf-8").lower() if chosen.text else None

        def log_match(message: Captured) -> bool:
            if topic_match is not None and not topic_match(message.topic):
                return False
            return needle is None or needle in message.payload.lower()

        self.filter = chosen
        self._log_match = log_match if chosen else None
        self._filtered_tree = self._tree_of(store, topic_match, needle) if chosen else None
        self.log_rows = deque(
            store.recent(LOG_ROWS, chosen.topic, chosen.text or None), maxlen=LOG_ROWS
        )

    @staticmethod
    def _tree_of(
        store: CaptureStore, topic_match: Callable[[str], bool] | None, needle: bytes | None
    ) -> TopicTree:
        tree = TopicTree()
        for stats in store.topics():
            if stats.last is None or (topic_match is not None and not topic_match(stats.topic)):
                continue
            if needle is None:  # all of the topic's messages count, kept or not
                tree.add(stats.topic, stats.last.payload, count=stats.count, size=stats.last.size)
                continue
            for message in stats.kept_messages():
                if needle in message.payload.lower():
                    tree.add(message.topic, message.payload, size=message.size)
        return tree

    def clear(self) -> None:
        """Forget everything captured (the filter stays)."""
        self.model.clear()
        self.set_filter(self.filter)

    def kept_in_view(self) -> list[Captured]:
        """Every kept message that passes the filter, oldest first (for export)."""
        store = self.model.store
        return store.recent(store.kept, self.filter.topic, self.filter.text or None)
