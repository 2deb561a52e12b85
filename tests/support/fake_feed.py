"""An inspector backend that subscribes to nothing, for the inspector's UI tests and
snapshots: tests push messages into it and read back what the screen asked of it."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.core.topic_filter import validate_filter
from mqchat.inspector.backend import (
    ClearOutcome,
    FeedError,
    InspectorBackend,
    PublishOutcome,
    PublishRequest,
    Received,
)
from mqchat.inspector.capture import Properties
from tests.support.fake_backend import NOW

__all__ = ["T0", "FakeFeed", "seed"]

T0 = NOW.timestamp()
"""The fixed clock of these tests: 2026-11-22 14:05:00 UTC."""


class FakeFeed(InspectorBackend):
    """A backend that subscribes to nothing: tests :meth:`push` messages into its
    buffer, and it records every request the screen makes."""

    def __init__(self, *, state: ConnectionChanged | None = None) -> None:
        self.broker_label = "broker.test:1883"
        self.state = state or ConnectionChanged(ConnectionState.CONNECTED, protocol="5")
        self.subs: dict[str, int] = {}
        self.buffer: deque[Received] = deque()
        self.notices: list[str] = []
        self.count = 0
        self.started = False
        self.stopped = False
        self.published: list[PublishRequest] = []
        self.retained: dict[str, list[str]] = {}
        self.republished: set[str] = set()
        self.cleared: list[list[str]] = []
        self.publish_error: str | None = None

    def push(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
        ts: float = T0,
    ) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.buffer.append(Received(topic, data, qos, retain, properties, ts))
        self.count += 1

    def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True
        self.state = ConnectionChanged(ConnectionState.CLOSED)

    @property
    def connection(self) -> ConnectionChanged:
        return self.state

    @property
    def subscriptions(self) -> Mapping[str, int]:
        return dict(self.subs)

    def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        validate_filter(topic_filter)
        self.subs[topic_filter] = qos

    def unsubscribe(self, topic_filter: str) -> bool:
        return self.subs.pop(topic_filter, None) is not None

    @property
    def received(self) -> int:
        return self.count

    @property
    def dropped(self) -> int:
        return 0

    def take(self, limit: int) -> list[Received]:
        return [self.buffer.popleft() for _ in range(min(limit, len(self.buffer)))]

    def take_notices(self) -> list[str]:
        notices, self.notices = self.notices, []
        return notices

    async def publish(self, request: PublishRequest) -> PublishOutcome:
        if self.publish_error:
            raise FeedError(self.publish_error)
        self.published.append(request)
        return PublishOutcome(True)

    async def find_retained(self, topic_filter: str) -> list[str]:
        return list(self.retained.get(topic_filter, []))

    async def clear_retained(self, topics: Sequence[str]) -> ClearOutcome:
        """Clears like a broker: gone from every listing, unless a device keeps
        publishing it again (``republished``)."""
        self.cleared.append(list(topics))
        for found in self.retained.values():
            found[:] = [t for t in found if t not in topics or t in self.republished]
        return ClearOutcome(len(topics))


def seed(feed: FakeFeed) -> None:
    """A small house: temperatures with a history, JSON, binary and chat traffic."""
    for i, value in enumerate(["22.90", "23.10", "23.38", "23.05", "23.41"]):
        feed.push("home/room1/temperature", value, qos=1, retain=i == 4, ts=T0 - 50 + i * 10)
    feed.push("home/room1/humidity", "48", ts=T0 - 5)
    feed.push(
        "home/room2/state",
        json.dumps({"on": True, "level": 70, "name": "lamp"}),
        properties={"ContentType": "application/json", "UserProperty": [("src", "hall")]},
        ts=T0 - 3,
    )
    feed.push("mqchat/u/alice/presence", '{"v":1,"state":"online"}', qos=1, retain=True, ts=T0 - 2)
    feed.push("sensors/raw", bytes(range(40)) + b"\xff\xfe", ts=T0 - 1)
