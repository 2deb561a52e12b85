"""Textual messages that carry backend events to the screens. The App turns every
:data:`mqchat.core.events.Event` into one of these and posts a fresh copy to each screen
on the stack, so a screen under another one stays current."""

from __future__ import annotations

from textual.message import Message

from mqchat.core.events import (
    ChatReceived,
    ConnectionChanged,
    ContactsChanged,
    DevicesChanged,
    Event,
    MessageChanged,
    MessageStateChanged,
    PeerTyping,
    PresenceChanged,
    Rejected,
    RoomChanged,
    TrustChanged,
)

__all__ = [
    "BackendMsg",
    "ChatReceivedMsg",
    "ConnectionChangedMsg",
    "ContactsChangedMsg",
    "DevicesChangedMsg",
    "MessageChangedMsg",
    "MessageStateChangedMsg",
    "PeerTypingMsg",
    "PresenceChangedMsg",
    "RejectedMsg",
    "RoomChangedMsg",
    "TrustChangedMsg",
    "message_for",
]


class BackendMsg(Message, bubble=False):
    """Base of the messages below; they are addressed to one screen and stop there."""


class ChatReceivedMsg(BackendMsg, bubble=False):
    """A chat message arrived from a peer."""

    def __init__(self, event: ChatReceived) -> None:
        super().__init__()
        self.event = event


class MessageStateChangedMsg(BackendMsg, bubble=False):
    """One of our messages moved on (sent, delivered, read, failed)."""

    def __init__(self, event: MessageStateChanged) -> None:
        super().__init__()
        self.event = event


class MessageChangedMsg(BackendMsg, bubble=False):
    """A message was edited or deleted by its sender (us or the peer)."""

    def __init__(self, event: MessageChanged) -> None:
        super().__init__()
        self.event = event


class PresenceChangedMsg(BackendMsg, bubble=False):
    """Someone came online, went away or left."""

    def __init__(self, event: PresenceChanged) -> None:
        super().__init__()
        self.event = event


class ConnectionChangedMsg(BackendMsg, bubble=False):
    """The MQTT connection changed state."""

    def __init__(self, event: ConnectionChanged) -> None:
        super().__init__()
        self.event = event


class RejectedMsg(BackendMsg, bubble=False):
    """An inbound message was refused and counted."""

    def __init__(self, event: Rejected) -> None:
        super().__init__()
        self.event = event


class PeerTypingMsg(BackendMsg, bubble=False):
    """A peer is typing to us right now."""

    def __init__(self, event: PeerTyping) -> None:
        super().__init__()
        self.event = event


class ContactsChangedMsg(BackendMsg, bubble=False):
    """A contact changed without us asking: a request arrived, a stranger wrote, or
    a peer accepted our request."""

    def __init__(self, event: ContactsChanged) -> None:
        super().__init__()
        self.event = event


class DevicesChangedMsg(BackendMsg, bubble=False):
    """The user's devices changed: one came, went, or was forgotten."""

    def __init__(self, event: DevicesChanged) -> None:
        super().__init__()
        self.event = event


class RoomChangedMsg(BackendMsg, bubble=False):
    """A room was created, changed or left (protocol v2)."""

    def __init__(self, event: RoomChanged) -> None:
        super().__init__()
        self.event = event


class TrustChangedMsg(BackendMsg, bubble=False):
    """A peer's end-to-end encryption keys came, changed, or were verified (v3)."""

    def __init__(self, event: TrustChanged) -> None:
        super().__init__()
        self.event = event


def message_for(event: Event) -> BackendMsg:
    """A new Textual message for ``event`` (a message can be posted only once)."""
    match event:
        case ChatReceived():
            return ChatReceivedMsg(event)
        case MessageStateChanged():
            return MessageStateChangedMsg(event)
        case MessageChanged():
            return MessageChangedMsg(event)
        case PresenceChanged():
            return PresenceChangedMsg(event)
        case ConnectionChanged():
            return ConnectionChangedMsg(event)
        case Rejected():
            return RejectedMsg(event)
        case PeerTyping():
            return PeerTypingMsg(event)
        case ContactsChanged():
            return ContactsChangedMsg(event)
        case DevicesChanged():
            return DevicesChangedMsg(event)
        case RoomChanged():
            return RoomChangedMsg(event)
        case TrustChanged():
            return TrustChangedMsg(event)
    raise TypeError(f"not a backend event: {event!r}")
