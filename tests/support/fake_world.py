"""The world a :class:`~tests.support.fake_backend.FakeBackend` shows the UI, and
how a test sets it up and changes it: contacts, requests, rooms, messages, presence,
devices and keys seeded before the app starts, or arriving while it runs (then the
event the chat would emit goes to the UI too). The fixed clock of the UI tests
lives here as well."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mqchat.chat.backend import EventListener
from mqchat.core.devices import DeviceRecord, Devices
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
    TrustChanged,
)
from mqchat.core.model import (
    ChatMessage,
    ConnectionState,
    Contact,
    ContactStatus,
    ContactSummary,
    DeliveryState,
    Direction,
    Presence,
    PresenceState,
)
from mqchat.core.trust import KeyTrust

__all__ = ["NOW", "SAFETY_NUMBER", "THIS_DEVICE", "FakeWorld", "at"]

NOW = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)
"""The fixed "now" of the UI tests (the tests run with TZ=UTC)."""


THIS_DEVICE = "a1b2c3d4e5f6"
"""The fake's own device id."""

SAFETY_NUMBER = "33733 96326 40826 94116 50463 95424 83365 03742 66538 59881 97838 08930"
"""The fake's safety number with every peer that has keys (protocol.md's example)."""


def at(hhmm: str, days_ago: int = 0) -> datetime:
    """``at("13:40")``: that time on the test day (UTC)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return NOW.replace(hour=hour, minute=minute) - timedelta(days=days_ago)


class FakeWorld:
    """Seeding (``seed_*``: before the app looks) and injecting (the rest: as the
    chat would report it, with its event) for the fake backend, which holds the
    state below."""

    user: str
    listener: EventListener | None
    state: ConnectionState
    rejected: int
    contact_list: dict[str, Contact]
    messages: dict[str, list[ChatMessage]]
    rooms: dict[str, ContactSummary]
    unread: dict[str, int]
    presences: dict[str, Presence]
    own_devices: Devices
    keys: dict[str, KeyTrust]
    verified: list[str]
    sealed: dict[bytes, bytes]
    unsealed: list[tuple[str, bytes]]
    _ids: itertools.count[int]

    def next_id(self) -> str:
        return f"m{next(self._ids):04d}"

    def seed_contact(
        self,
        user: str,
        display_name: str | None = None,
        *,
        unread: int = 0,
        status: ContactStatus = ContactStatus.FRIEND,
    ) -> Contact:
        contact = Contact(user, display_name, added_at=NOW, status=status)
        self.contact_list[user] = contact
        self.unread[user] = unread
        self.messages.setdefault(user, [])
        return contact

    def seed_request(
        self,
        user: str,
        display_name: str | None = None,
        *,
        body: str | None = None,
        ts: datetime = NOW,
    ) -> Contact:
        """``user`` asked to be our friend (with a first message, unread, if ``body``)."""
        contact = self.seed_contact(user, display_name, status=ContactStatus.INCOMING)
        if body is not None:
            self.seed_message(user, body, ts)
            self.unread[user] = 1
        return contact

    def seed_room(self, room_id: str, name: str, members: Iterable[str]) -> ContactSummary:
        """A room we are in (protocol v2), listed with the contacts."""
        key = "#" + room_id
        contact = Contact(user=key, display_name=name, added_at=NOW)
        self.rooms[key] = ContactSummary(contact, members=tuple(members))
        return self.rooms[key]

    def seed_message(
        self,
        peer: str,
        body: str,
        ts: datetime,
        *,
        outgoing: bool = False,
        state: DeliveryState | None = None,
        sender: str | None = None,
        sealed: bool = False,
    ) -> ChatMessage:
        message = ChatMessage(
            id=self.next_id(),
            peer=peer,
            direction=Direction.OUT if outgoing else Direction.IN,
            sender=self.user if outgoing else sender or peer,
            recipient=peer if outgoing else self.user,
            ts=ts,
            body=body,
            state=state or (DeliveryState.READ if outgoing else DeliveryState.RECEIVED),
            sealed=sealed,
        )
        self.messages.setdefault(peer, []).append(message)
        return message

    def seed_presence(
        self,
        user: str,
        state: PresenceState,
        since: datetime | None = None,
        *,
        name: str | None = None,
        lost: bool = False,
    ) -> Presence:
        presence = Presence(user, state, since, name=name, lost=lost)
        self.presences[user] = presence
        return presence

    def seed_device(
        self,
        device: str,
        *,
        online: bool = False,
        since: datetime = NOW,
        label: str | None = None,
        lost: bool = False,
    ) -> DeviceRecord:
        record = DeviceRecord(device, online, since, label, lost)
        self.own_devices.update(device, record)
        return record

    def set_device(self, device: str, record: DeviceRecord | None) -> None:
        """A device record arrives (``None``: cleared), as the chat reports it."""
        self.own_devices.update(device, record)
        self.emit(DevicesChanged(tuple(self.own_devices.all())))

    def seed_keys(self, user: str, *, devices: int = 1, **kw: object) -> KeyTrust:
        """``user`` has keys (``devices`` of them; ``verified``, ``changed``…)."""
        trust = KeyTrust(user, devices, **kw)  # type: ignore[arg-type]
        self.keys[user] = trust
        return trust

    def set_keys(self, user: str, *, devices: int = 1, **kw: object) -> KeyTrust:
        """``user``'s keys come or change now, as the chat reports it."""
        trust = self.seed_keys(user, devices=devices, **kw)
        self.emit(TrustChanged(trust))
        return trust

    def emit(self, event: Event) -> None:
        if self.listener is not None:
            self.listener(event)

    def receive(
        self, peer: str, body: str, ts: datetime = NOW, *, sealed: bool = False
    ) -> ChatMessage:
        """A message from ``peer`` arrives (stored, unread, event emitted)."""
        message = self.seed_message(peer, body, ts, sealed=sealed)
        if peer in self.contact_list:
            self.unread[peer] = self.unread.get(peer, 0) + 1
        self.emit(ChatReceived(message))
        return message

    def change(self, message_id: str, body: str | None, when: datetime = NOW) -> ChatMessage:
        """The message is edited to ``body`` (deleted when ``None``) by its sender, as
        stored; the event is emitted. For a peer's change, or to seed one."""
        for messages in self.messages.values():
            for i, message in enumerate(messages):
                if message.id == message_id:
                    if body is None:
                        messages[i] = replace(message, body="", deleted=True)
                    else:
                        messages[i] = replace(message, body=body, edited=when)
                    self.emit(MessageChanged(messages[i]))
                    return messages[i]
        raise KeyError(message_id)

    def change_state(self, message_id: str, state: DeliveryState) -> None:
        for peer, messages in self.messages.items():
            for i, message in enumerate(messages):
                if message.id == message_id:
                    messages[i] = replace(message, state=state)
                    self.emit(MessageStateChanged(message_id, peer, state))
                    return
        raise KeyError(message_id)

    def set_presence(
        self, user: str, state: PresenceState, since: datetime = NOW, **kw: object
    ) -> None:
        presence = self.seed_presence(user, state, since, **kw)  # type: ignore[arg-type]
        self.emit(PresenceChanged(presence))

    def request(
        self, user: str, display_name: str | None = None, *, body: str | None = None
    ) -> Contact:
        """A friend request (or a stranger's first message) arrives now."""
        contact = self.seed_request(user, display_name)
        self.emit(ContactsChanged(user, contact))
        if body is not None:
            self.receive(user, body)
        return contact

    def accepted_by(self, user: str) -> Contact:
        """``user`` accepted our request."""
        contact = replace(self.contact_list[user], status=ContactStatus.FRIEND)
        self.contact_list[user] = contact
        self.emit(ContactsChanged(user, contact))
        return contact

    def peer_typing(self, user: str) -> None:
        self.emit(PeerTyping(user))

    def reject(self, topic: str, reason: str) -> None:
        self.rejected += 1
        self.emit(Rejected(topic, reason, self.rejected))

    def connection(self, event: ConnectionChanged) -> None:
        self.state = event.state
        self.emit(event)

    # -- end-to-end encryption, as the backend contract has it ------------------------

    def unseal(self, topic: str, payload: bytes) -> bytes | None:
        self.unsealed.append((topic, payload))
        return self.sealed.get(payload)

    def trust(self, user: str) -> KeyTrust:
        return self.keys.get(user, KeyTrust(user))

    def safety_number(self, user: str) -> str | None:
        return SAFETY_NUMBER if self.trust(user).encrypted else None

    async def verify(self, user: str) -> KeyTrust:
        """Marks the keys ``user`` has verified (their change is seen) and says so."""
        self.verified.append(user)
        trust = replace(self.trust(user), verified=True, changed=None)
        self.keys[user] = trust
        self.emit(TrustChanged(trust))
        return trust
