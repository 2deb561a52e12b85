"""Plain data of the chat: messages, contacts, presence and connection states. No I/O
and no framework imports live here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "ChatMessage",
    "ConnectionState",
    "Contact",
    "ContactStatus",
    "ContactSummary",
    "DeliveryState",
    "Direction",
    "Presence",
    "PresenceState",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class DeliveryState(StrEnum):
    """Where a message stands. Own messages go pending → sent → delivered → read
    (or failed); received ones are ``received`` until the conversation is read."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One text message of a conversation, as stored and shown."""

    id: str
    peer: str  # the other side of the conversation
    direction: Direction
    sender: str
    recipient: str
    ts: datetime  # the sender's clock (UTC); our time of arrival if claimed_ts is set
    body: str
    state: DeliveryState
    claimed_ts: datetime | None = None
    """The sender's clock when it was too far from ours to believe
    (:func:`mqchat.core.timing.effective_time`); ``ts`` is then when it arrived."""
    edited: datetime | None = None
    """When its sender last changed the body (protocol v2 ``edit``); ``None``: never."""
    deleted: bool = False
    """Its sender deleted it (protocol v2 ``delete``): the body is gone, for good."""
    sealed: bool = False
    """It travelled end-to-end encrypted (protocol v3 ``sealed``): the broker could
    not read it."""

    @property
    def outgoing(self) -> bool:
        return self.direction is Direction.OUT


class ContactStatus(StrEnum):
    """Where a contact stands: a friend, someone we asked (waiting for their
    ``friend_accept``), or someone who asked us or wrote first (waiting for ours)."""

    FRIEND = "friend"
    REQUESTED = "requested"
    INCOMING = "incoming"


@dataclass(frozen=True, slots=True)
class Contact:
    user: str
    display_name: str | None = None
    added_at: datetime | None = None
    status: ContactStatus = ContactStatus.FRIEND

    @property
    def is_request(self) -> bool:
        """They asked us (or wrote first) and we have not accepted yet."""
        return self.status is ContactStatus.INCOMING


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """A contact as the friends list shows it."""

    contact: Contact
    unread: int = 0
    last_message: ChatMessage | None = None
    members: tuple[str, ...] | None = None
    """For a room (protocol v2): its members. ``contact.user`` is then the room's
    conversation key (``#<room id>``) and ``contact.display_name`` its name."""

    @property
    def is_room(self) -> bool:
        return self.members is not None


class PresenceState(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Presence:
    """What is known of a user's presence. ``since`` is when this state began as far
    as we can tell; ``lost`` is true when the broker published the Will."""

    user: str
    state: PresenceState
    since: datetime | None = None
    name: str | None = None
    lost: bool = False
    device: str | None = None
    """Whose Will it is, when a protocol v2 client's Will says (one of its devices)."""

    @property
    def online(self) -> bool:
        return self.state is not PresenceState.OFFLINE


class ConnectionState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RETRYING = "retrying"  # lost or refused; another attempt is scheduled
    FAILED = "failed"  # gave up: bad credentials, bad URL, or stopped before connecting
    CLOSED = "closed"
