"""The contract between the inspector screen and whatever subscribes for it. The UI
knows only :class:`InspectorBackend`; the real one is
:class:`mqchat.inspector.feed.InspectorFeed` (paho in its own thread), tests
supply an in-memory one. Nothing here does I/O or imports a framework."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mqchat.config.settings import Settings
from mqchat.core.events import ConnectionChanged
from mqchat.core.message import Message

__all__ = [
    "MAX_QOS",
    "ClearOutcome",
    "FeedError",
    "InspectorBackend",
    "InspectorFactory",
    "PublishOutcome",
    "PublishRequest",
    "Received",
]

MAX_QOS = 2


class FeedError(Exception):
    """A request the feed could not carry out (not connected, refused, timed out);
    the text says why in words a person can act on."""


Received = Message
"""One message as it came off the wire (the connection's own type)."""


@dataclass(frozen=True, slots=True)
class PublishRequest:
    """What the publish form asks for. The properties are MQTT 5 only: on a 3.1.1
    connection they are left out and the outcome says so."""

    topic: str
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    content_type: str | None = None
    user_properties: tuple[tuple[str, str], ...] = ()
    message_expiry: int | None = None
    """Seconds the broker may keep the message for subscribers that have not got it."""

    @property
    def has_properties(self) -> bool:
        return bool(self.content_type or self.user_properties or self.message_expiry)


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """How a publish ended: ``acknowledged`` is true once the broker confirmed it
    (QoS 1/2; QoS 0 counts once written), ``refused`` holds the broker's reason
    (MQTT 5 only tells), ``dropped_properties`` that properties were left out because
    the connection is MQTT 3.1.1, ``qos_used`` the QoS it went out with (lower than
    asked when the broker takes no QoS 2, like NATS)."""

    acknowledged: bool
    refused: str | None = None
    dropped_properties: bool = False
    qos_used: int | None = None


@dataclass(frozen=True, slots=True)
class ClearOutcome:
    """What clearing retained messages did: ``cleared`` topics the broker accepted the
    empty retained message for, ``refused`` topic → the broker's reason."""

    cleared: int
    refused: Mapping[str, str] = field(default_factory=dict)


class InspectorBackend(ABC):
    """A subscriber to any set of topic filters on one broker, for the inspector.

    Messages arrive on a thread of the backend's own and wait in a bounded buffer
    until the UI takes them (:meth:`take`) on its timer: receiving never waits for
    the screen. Everything here is safe to call from the UI's event loop; no method
    blocks for long."""

    broker_label: str
    """``host:port`` of the broker, for titles; never contains credentials."""

    @abstractmethod
    def start(self) -> None:
        """Connect in the background (MQTT 5, or 3.1.1 when the broker refuses 5) and
        keep reconnecting with backoff until :meth:`stop`; subscriptions are made
        again on every connection. Returns at once."""

    @abstractmethod
    async def stop(self) -> None:
        """Disconnect cleanly and end the background thread. Idempotent."""

    @property
    @abstractmethod
    def connection(self) -> ConnectionChanged:
        """The connection right now: state, the reason of the last failure, protocol."""

    @property
    @abstractmethod
    def subscriptions(self) -> Mapping[str, int]:
        """Filter → requested QoS, in the order they were added."""

    @abstractmethod
    def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        """Subscribe now (or on the next connection) to ``topic_filter`` at ``qos``;
        subscribing again changes the QoS. Raises
        :class:`~mqchat.core.topic_filter.InvalidFilter` or ``ValueError`` (QoS).
        A broker's refusal arrives later as a notice."""

    @abstractmethod
    def unsubscribe(self, topic_filter: str) -> bool:
        """Leave ``topic_filter``; ``False`` when it was not subscribed."""

    @property
    @abstractmethod
    def received(self) -> int:
        """Every message that arrived since :meth:`start`, dropped ones included."""

    @property
    @abstractmethod
    def dropped(self) -> int:
        """Messages thrown away because the buffer was full (the UI fell behind)."""

    @abstractmethod
    def take(self, limit: int) -> list[Received]:
        """Up to ``limit`` buffered messages, oldest first, removing them."""

    @abstractmethod
    def take_notices(self) -> list[str]:
        """Things to tell the user since the last call (a refused subscription…)."""

    @abstractmethod
    async def publish(self, request: PublishRequest) -> PublishOutcome:
        """Publish on the inspector's connection and wait for the broker's answer.
        Raises :class:`FeedError` (not connected, no answer in time)."""

    @abstractmethod
    async def find_retained(self, topic_filter: str) -> list[str]:
        """The topics under ``topic_filter`` that hold a retained message, found on a
        separate short connection (a dry run: nothing is changed). Raises
        :class:`FeedError`."""

    @abstractmethod
    async def clear_retained(self, topics: Sequence[str]) -> ClearOutcome:
        """Publish an empty retained message (QoS 1) to each topic and wait for the
        broker's answers. Raises :class:`FeedError`."""


InspectorFactory = Callable[[Settings], InspectorBackend]
"""Builds the inspector's backend for a broker (URL, login, data folder); the CLI
passes the real one, tests a fake."""
