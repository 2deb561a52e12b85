"""Everything the inspector knows, fed by one call per received message: the capture
store, the topic tree and the msg/s meter, kept in step (a topic the store forgets
leaves the tree too)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mqchat.inspector.capture import Captured, CaptureStore, Properties
from mqchat.inspector.rate import RateMeter
from mqchat.inspector.topic_tree import TopicTree

__all__ = ["InspectorModel"]


class InspectorModel:
    """The inspector's state without any I/O. The service calls :meth:`ingest` for
    each message; the UI reads ``store``, ``tree`` and :meth:`rate` on its own timer."""

    __slots__ = ("_clock", "meter", "store", "tree")

    def __init__(
        self,
        store: CaptureStore | None = None,
        *,
        meter: RateMeter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.tree = TopicTree()
        self.store = store if store is not None else CaptureStore(clock=clock)
        self.store.on_forget = self.tree.forget
        self.meter = meter if meter is not None else RateMeter(clock=clock)

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
        """Capture one message received at ``ts`` (default: the clock); ``size`` is
        the payload's length as sent when ``payload`` was cut on receipt."""
        if ts is None:
            ts = self._clock()
        message = self.store.ingest(topic, payload, qos, retain, properties, ts, size)
        self.tree.add(message.topic, message.payload, size=message.size)
        self.meter.add(1, ts)
        return message

    @property
    def clock(self) -> Callable[[], float]:
        """The time of a message that came without one."""
        return self._clock

    @property
    def total(self) -> int:
        """Every message received since the start or the last :meth:`clear`."""
        return self.store.total

    def rate(self, now: float | None = None) -> float:
        """Messages per second lately (see :class:`RateMeter`)."""
        return self.meter.rate(now)

    def clear(self) -> None:
        self.store.clear()
        self.tree.clear()
        self.meter.reset()
