"""Plain data of the chat: user names, messages, contacts, presence and the events a
backend reports. No I/O and no framework imports live here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "MAX_USER_NAME",
    "ChatMessage",
    "ChatReceived",
    "ConnectionChanged",
    "ConnectionState",
    "Contact",
    "ContactStatus",
    "ContactSummary",
    "ContactsChanged",
    "DeliveryState",
    "Direction",
    "Event",
    "InvalidUserName",
    "MessageStateChanged",
    "PeerTyping",
    "Presence",
    "PresenceChanged",
    "PresenceState",
    "Rejected",
    "display_safe",
    "utc_now",
    "validate_user_name",
]

MAX_USER_NAME = 32
_USER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class InvalidUserName(ValueError):
    """A user name that cannot be a topic level of the scheme."""


def validate_user_name(name: str, *, what: str = "user name") -> str:
    """Return ``name`` if it is a valid user name, else raise :class:`InvalidUserName`
    with a sentence a person can act on."""
    if not isinstance(name, str) or name == "":
        raise InvalidUserName(f"the {what} is empty")
    if _USER_NAME.fullmatch(name):
        return name
    if len(name) > MAX_USER_NAME:
        raise InvalidUserName(f"the {what} is longer than {MAX_USER_NAME} characters")
    bad = next(ch for ch in name if not _USER_NAME.fullmatch(ch))
    shown = {" ": "a space", "\x00": "a NUL byte", "/": "'/'", "+": "'+'", "#": "'#'"}.get(
        bad, repr(bad)
    )
    raise InvalidUserName(
        f"the {what} {name!r} contains {shown}; use 1-{MAX_USER_NAME} of A-Z a-z 0-9 _ . -"
    )


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
    ts: datetime  # the sender's clock (UTC)
    body: str
    state: DeliveryState

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


# Events a backend reports to whoever shows it (the TUI turns them into Textual messages).


@dataclass(frozen=True, slots=True)
class ChatReceived:
    message: ChatMessage


@dataclass(frozen=True, slots=True)
class MessageStateChanged:
    message_id: str
    peer: str
    state: DeliveryState
    reason: str = ""
    """Why, for a failed message (e.g. the broker refused it)."""


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    presence: Presence


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    state: ConnectionState
    detail: str = ""
    retry_in: float | None = None
    protocol: str = ""
    """``"5"`` or ``"3.1.1"`` once connected (3.1.1 after falling back); else empty."""


@dataclass(frozen=True, slots=True)
class PeerTyping:
    """``peer`` is typing to us right now (the indicator fades after a few seconds
    without another one, or when their message arrives)."""

    peer: str


@dataclass(frozen=True, slots=True)
class ContactsChanged:
    """The backend changed a contact on its own: a friend request arrived, a
    stranger wrote, or a peer accepted ours. ``contact`` is ``None`` once removed."""

    user: str
    contact: Contact | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """An inbound message was refused (malformed, spoofed, oversized…)."""

    topic: str
    reason: str
    total: int = field(default=0)


Event = (
    ChatReceived
    | MessageStateChanged
    | PresenceChanged
    | ConnectionChanged
    | Rejected
    | PeerTyping
    | ContactsChanged
)


_CONTROL: dict[int, int | None] = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_CONTROL.update({0x7F: None, **{c: None for c in range(0x80, 0xA0)}})
_CONTROL[0x09] = 0x20  # a tab becomes a space: widths stay predictable
# Bidirectional overrides and isolates reorder what follows them on the line, so a
# peer could make their text (or the rest of ours) read differently than it is.
_CONTROL.update({c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F))})
_CONTROL.update({c: None for c in range(0x2066, 0x206A)})


def display_safe(text: str) -> str:
    """``text`` without C0/C1 control characters (ESC, BEL, CSI…) and bidirectional
    overrides, so a peer's words can never drive the terminal or reorder the line.
    Newlines stay; markup is the renderer's concern."""
    return text.translate(_CONTROL)
