"""What the inspector captured: every received message as a small :class:`Captured`,
the newest ones kept per topic (a ring of ``per_topic``) under global caps on
messages, payload bytes and topics, so memory stays flat however many messages
arrive. Ingesting is O(1) amortised; totals count every message ever seen."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator

from mqchat.core.message import Properties, PropertyValue
from mqchat.core.topic_filter import compile_filter, has_wildcards
from mqchat.inspector.captured import Captured, TopicStats, cut

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_KEPT",
    "DEFAULT_MAX_TOPICS",
    "DEFAULT_PAYLOAD_CAP",
    "DEFAULT_PER_TOPIC",
    "LAST_PAYLOAD_CAP",
    "CaptureStore",
    "Captured",
    "Properties",
    "PropertyValue",
    "TopicStats",
]

DEFAULT_PER_TOPIC = 50
DEFAULT_MAX_KEPT = 100_000
DEFAULT_MAX_TOPICS = 50_000
DEFAULT_PAYLOAD_CAP = 64 * 1024
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
LAST_PAYLOAD_CAP = 1024
"""A topic's last message outlives its kept messages (for the tree and the detail header) cut
to this many bytes, so forgotten payloads cannot pile up across many topics."""


class CaptureStore:
    """Captured messages under four bounds: ``per_topic`` newest messages per topic,
    ``max_kept`` messages and ``max_bytes`` payload bytes in all (the oldest go
    first), ``max_topics`` topics (the least recently updated are forgotten, their
    messages still counted in the totals). ``on_forget(topic)`` hears of each
    forgotten topic, so a topic tree can drop it too."""

    __slots__ = (
        "_clock",
        "_forgotten",
        "_forgotten_messages",
        "_kept",
        "_kept_bytes",
        "_max_bytes",
        "_max_kept",
        "_max_topics",
        "_order",
        "_payload_cap",
        "_per_topic",
        "_seq",
        "_topics",
        "_total_bytes",
        "on_forget",
    )

    def __init__(
        self,
        *,
        per_topic: int = DEFAULT_PER_TOPIC,
        max_kept: int = DEFAULT_MAX_KEPT,
        max_topics: int = DEFAULT_MAX_TOPICS,
        payload_cap: int = DEFAULT_PAYLOAD_CAP,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        on_forget: Callable[[str], None] | None = None,
    ) -> None:
        if min(per_topic, max_kept, max_topics) < 1 or payload_cap < 0:
            raise ValueError("capture bounds must be positive")
        if max_bytes < payload_cap:
            raise ValueError("max_bytes must hold at least one payload of payload_cap bytes")
        self._per_topic = per_topic
        self._max_kept = max_kept
        self._max_topics = max_topics
        self._payload_cap = payload_cap
        self._max_bytes = max_bytes
        self._clock = clock
        self.on_forget = on_forget
        self.clear()

    def clear(self) -> None:
        """Forget everything, totals included (``on_forget`` is not called)."""
        self._topics: OrderedDict[str, TopicStats] = OrderedDict()  # least recent first
        # Every kept message in arrival order, plus some already dropped by their
        # topic ("stale"): evicting globally pops from the left, and the deque is
        # compacted when stale entries could make it twice the cap.
        self._order: deque[Captured] = deque()
        self._seq = 0
        self._kept = 0
        self._kept_bytes = 0
        self._total_bytes = 0
        self._forgotten = 0
        self._forgotten_messages = 0

    # -- ingest ------------------------------------------------------------------

    def ingest(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
        ts: float | None = None,
        size: int | None = None,
    ) -> Captured:
        """Capture one message (``ts`` defaults to the clock) and return it; ``size``
        is the payload's length as sent when ``payload`` is already a cut of it."""
        topics = self._topics
        stats = topics.get(topic)
        if stats is None:
            stats = self._add_topic(topic)
        else:
            topics.move_to_end(topic)
        length = len(payload)
        if size is None or size < length:
            size = length
        if length > self._payload_cap:
            payload = bytes(payload[: self._payload_cap])
            length = len(payload)
        self._seq = seq = self._seq + 1
        message = Captured(
            seq,
            self._clock() if ts is None else ts,
            stats.topic,  # one str per topic, not one per message
            payload,
            size,
            qos,
            retain,
            properties,
        )
        kept_bytes = self._kept_bytes + length
        if stats.kept == self._per_topic:  # TopicStats._drop_oldest, inlined: the hot path
            oldest = stats._oldest
            assert oldest is not None
            stats._oldest, oldest._newer = oldest._newer, None
            kept_bytes -= len(oldest.payload)
        else:
            self._kept += 1
            stats.kept += 1
        newest = stats._newest
        if newest is None or stats._oldest is None:
            stats._oldest = message
        else:
            newest._newer = message
        stats._newest = message
        stats.count += 1
        stats.bytes += size
        stats.last = message
        self._kept_bytes = kept_bytes
        self._total_bytes += size
        order = self._order
        order.append(message)
        if self._kept > self._max_kept or kept_bytes > self._max_bytes:
            self._evict_oldest()
        elif len(order) > 2 * self._max_kept:
            self._compact()
        return message

    def _add_topic(self, topic: str) -> TopicStats:
        stats = TopicStats(topic)
        self._topics[topic] = stats
        if len(self._topics) > self._max_topics:
            old_topic, old = self._topics.popitem(last=False)
            self._kept -= old.kept
            while old.kept:  # unlinked, so a message the UI holds keeps no chain alive
                self._kept_bytes -= len(old._drop_oldest().payload)
            self._forgotten += 1
            self._forgotten_messages += old.count
            if self.on_forget is not None:
                self.on_forget(old_topic)
        return stats

    def remove(self, topic: str) -> bool:
        """Drop ``topic`` and its kept messages as if never captured (``on_forget``
        hears of it; the count goes on): what the inspector subscribed to for itself."""
        stats = self._topics.pop(topic, None)
        if stats is None:
            return False
        self._kept -= stats.kept
        while stats.kept:  # its entries in the arrival order are stale from now on
            self._kept_bytes -= len(stats._drop_oldest().payload)
        self._total_bytes -= stats.bytes
        if self.on_forget is not None:
            self.on_forget(topic)
        return True

    def _is_kept(self, message: Captured) -> bool:
        # A topic keeps its newest messages, so a message is kept iff it is not older
        # than its topic's oldest kept one (and its topic was not forgotten since).
        stats = self._topics.get(message.topic)
        oldest = None if stats is None else stats._oldest
        return oldest is not None and message.seq >= oldest.seq

    def _evict_oldest(self) -> None:
        order, topics = self._order, self._topics
        while self._kept > self._max_kept or self._kept_bytes > self._max_bytes:
            message = order.popleft()
            stats = topics.get(message.topic)
            if stats is None or stats._oldest is not message:
                continue  # stale: already dropped by its topic, or the topic forgotten
            stats._drop_oldest()
            self._kept -= 1
            self._kept_bytes -= len(message.payload)
            if not stats.kept and len(message.payload) > LAST_PAYLOAD_CAP:
                stats.last = cut(message, LAST_PAYLOAD_CAP)

    def _compact(self) -> None:
        self._order = deque(m for m in self._order if self._is_kept(m))

    # -- bounds and totals -------------------------------------------------------

    @property
    def per_topic(self) -> int:
        return self._per_topic

    @property
    def max_kept(self) -> int:
        return self._max_kept

    @property
    def max_topics(self) -> int:
        return self._max_topics

    @property
    def payload_cap(self) -> int:
        return self._payload_cap

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @property
    def total(self) -> int:
        """Every message ever ingested (since the last :meth:`clear`)."""
        return self._seq

    @property
    def total_bytes(self) -> int:
        return self._total_bytes

    @property
    def kept(self) -> int:
        """Messages kept now (at most ``per_topic`` per topic, ``max_kept`` in all)."""
        return self._kept

    @property
    def kept_bytes(self) -> int:
        return self._kept_bytes

    @property
    def topic_count(self) -> int:
        return len(self._topics)

    @property
    def forgotten_topics(self) -> int:
        """Topics forgotten to stay within ``max_topics`` (they left the tree too)."""
        return self._forgotten

    @property
    def forgotten_messages(self) -> int:
        """Messages counted on the forgotten topics before they went."""
        return self._forgotten_messages

    # -- views ----------------------------------------------------------------------

    def stats(self, topic: str) -> TopicStats | None:
        return self._topics.get(topic)

    def topics(self) -> Iterator[TopicStats]:
        """Tracked topics, least recently updated first."""
        return iter(self._topics.values())

    def last(self, topic: str) -> Captured | None:
        stats = self._topics.get(topic)
        return None if stats is None else stats.last

    def history(self, topic: str) -> list[Captured]:
        """The kept messages of ``topic``, oldest first."""
        stats = self._topics.get(topic)
        return [] if stats is None else list(stats.kept_messages())

    def recent(
        self, limit: int, topic_filter: str | None = None, text: str | None = None
    ) -> list[Captured]:
        """The newest ``limit`` kept messages, oldest first (newest last, as a live
        log shows them), optionally only those whose topic matches ``topic_filter``
        (raises :class:`~mqchat.core.topic_filter.InvalidFilter`) and whose payload
        contains ``text`` (ASCII letters in any case)."""
        if limit <= 0:
            return []
        match = None if topic_filter is None else compile_filter(topic_filter)
        needle = text.encode("utf-8").lower() if text else None
        if topic_filter is not None and not has_wildcards(topic_filter):
            candidates: Iterator[Captured] = reversed(self.history(topic_filter))
            match = None
        else:
            candidates = reversed(self._order)
        found: list[Captured] = []
        is_kept = self._is_kept
        for message in candidates:
            if match is not None and not match(message.topic):
                continue
            if needle is not None and needle not in message.payload.lower():
                continue
            if not is_kept(message):
                continue
            found.append(message)
            if len(found) == limit:
                break
        found.reverse()
        return found
