"""Events a backend reports to whoever shows it (the TUI turns them into Textual
messages)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mqchat.core.devices import DeviceRecord
from mqchat.core.model import ChatMessage, ConnectionState, Contact, DeliveryState, Presence
from mqchat.core.rooms import Room
from mqchat.core.trust import KeyTrust

__all__ = [
    "ChatReceived",
    "ConnectionChanged",
    "ContactsChanged",
    "DevicesChanged",
    "Event",
    "MessageChanged",
    "MessageStateChanged",
    "Notice",
    "PeerTyping",
    "PresenceChanged",
    "Rejected",
    "RoomChanged",
    "TrustChanged",
]


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
class MessageChanged:
    """A stored message was edited or deleted by its sender (us or the peer):
    ``message`` is it as it is now, to be drawn again wherever it shows."""

    message: ChatMessage


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


@dataclass(frozen=True, slots=True)
class TrustChanged:
    """A peer's keys came, changed, or were verified (protocol v3)."""

    trust: KeyTrust


@dataclass(frozen=True, slots=True)
class DevicesChanged:
    """A record of the user's devices came (protocol v2): ``devices`` is all of them,
    this one first."""

    devices: tuple[DeviceRecord, ...]


@dataclass(frozen=True, slots=True)
class RoomChanged:
    """A room was created, changed, left, or we were added or removed (protocol v2)."""

    room: Room


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should be told once, as a toast (``severity``: Textual's
    ``information``, ``warning`` or ``error``)."""

    title: str
    text: str
    severity: str = "warning"


Event = (
    ChatReceived
    | MessageStateChanged
    | MessageChanged
    | PresenceChanged
    | ConnectionChanged
    | Rejected
    | TrustChanged
    | PeerTyping
    | ContactsChanged
    | DevicesChanged
    | RoomChanged
    | Notice
)
