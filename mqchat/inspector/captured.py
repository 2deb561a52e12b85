"""One captured message (:class:`Captured`) and what is known of one topic
(:class:`TopicStats`): the small objects the capture store makes per message and per
topic, in a module of their own so the store's module holds its rules only."""

from __future__ import annotations

from collections.abc import Iterator

from mqchat.core.message import Properties

__all__ = ["Captured", "TopicStats", "cut"]


class Captured:
    """One received message. ``seq`` numbers messages in arrival order from 1;
    ``ts`` is the receive time in epoch seconds; ``payload`` is cut to the store's
    payload cap, ``size`` is the original length. Read-only by convention: plain
    slots keep it small and fast to make, at one per message."""

    __slots__ = ("_newer", "payload", "properties", "qos", "retain", "seq", "size", "topic", "ts")

    def __init__(
        self,
        seq: int,
        ts: float,
        topic: str,
        payload: bytes,
        size: int,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.topic = topic
        self.payload = payload
        self.size = size
        self.qos = qos
        self.retain = retain
        self.properties = properties
        # The next kept message of the same topic: a topic's kept messages are a chain
        # from its oldest to its newest, so no container per topic is needed.
        self._newer: Captured | None = None

    @property
    def truncated(self) -> bool:
        return self.size > len(self.payload)

    def __repr__(self) -> str:
        return (
            f"Captured(seq={self.seq}, topic={self.topic!r}, size={self.size}, "
            f"qos={self.qos}, retain={self.retain})"
        )


class TopicStats:
    """What is known of one topic: every message counted (``count``, ``bytes`` of
    original sizes), the newest ``kept`` ones kept, and the ``last`` one."""

    __slots__ = ("_newest", "_oldest", "bytes", "count", "kept", "last", "topic")

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.count = 0
        self.bytes = 0
        self.kept = 0
        self.last: Captured | None = None
        self._oldest: Captured | None = None  # None exactly when nothing is kept
        self._newest: Captured | None = None

    def kept_messages(self) -> Iterator[Captured]:
        """The kept messages, oldest first."""
        message = self._oldest
        while message is not None:
            yield message
            message = message._newer

    def _drop_oldest(self) -> Captured:
        oldest = self._oldest
        assert oldest is not None
        self._oldest, oldest._newer = oldest._newer, None
        if self._oldest is None:
            self._newest = None
        self.kept -= 1
        return oldest


def cut(message: Captured, cap: int) -> Captured:
    return Captured(
        message.seq,
        message.ts,
        message.topic,
        message.payload[:cap],
        message.size,
        message.qos,
        message.retain,
        message.properties,
    )
