"""An in-memory :class:`~mqchat.chat.backend.ChatBackend` for UI tests: deterministic ids
and times, seeded contacts, requests, messages, presence and keys, events injected by
the test (see :mod:`tests.support.fake_world`), and a record of everything the UI
asked for.

Sending follows the contract: :meth:`FakeBackend.send_text` returns the message
``pending``; while connected and ``ack_sends`` is true, the ``sent`` state follows
on the next loop iteration, as a broker's PUBACK would. Tests that want to watch
the states set ``ack_sends = False`` and call :meth:`FakeBackend.change_state`."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from mqchat.chat.backend import ChatBackend, DeviceRefused, EventListener, SendError
from mqchat.config.settings import Settings
from mqchat.core.devices import DeviceRecord, Devices, why_not_forget
from mqchat.core.events import (
    ConnectionChanged,
)
from mqchat.core.model import (
    ChatMessage,
    ConnectionState,
    Contact,
    ContactStatus,
    ContactSummary,
    DeliveryState,
    Presence,
    PresenceState,
)
from mqchat.core.names import validate_user_name
from mqchat.core.search import body_matches, search_words
from mqchat.core.topics import validate_device_id
from mqchat.core.trust import KeyTrust
from tests.support.fake_sealed import SEALED_FOR_ALICE, SEALED_FOR_CAROL, SEALED_INNER
from tests.support.fake_world import NOW, THIS_DEVICE, FakeWorld, at

__all__ = [
    "NOW",
    "SEALED_FOR_ALICE",
    "SEALED_FOR_CAROL",
    "SEALED_INNER",
    "THIS_DEVICE",
    "FakeBackend",
    "at",
    "fake_factory",
    "seeded_backend",
]


class FakeBackend(FakeWorld, ChatBackend):
    """A backend that chats with nobody. ``connect_events`` are emitted when
    :meth:`run` starts (default: connecting, connected); then it waits for
    :meth:`stop`, unless the last event is ``FAILED``."""

    def __init__(
        self,
        user: str = "alice",
        *,
        display_name: str = "Alice",
        broker_label: str = "broker.test:1883",
        connect_events: Iterable[ConnectionChanged] | None = None,
        max_body: int = 1000,
    ) -> None:
        self.user = user
        self.display_name = display_name
        self.broker_label = broker_label
        self.connect_events = list(
            connect_events
            if connect_events is not None
            else [
                ConnectionChanged(ConnectionState.CONNECTING),
                ConnectionChanged(ConnectionState.CONNECTED),
            ]
        )
        self.max_body = max_body
        self.listener: EventListener | None = None
        self.state = ConnectionState.IDLE
        self.rejected = 0
        self.contact_list: dict[str, Contact] = {}
        self.messages: dict[str, list[ChatMessage]] = {}
        self.rooms: dict[str, ContactSummary] = {}
        self.left_rooms: list[str] = []
        self.read_counts: dict[str, tuple[int, int]] = {}
        """What :meth:`read_by` answers (set by tests)."""
        self.unread: dict[str, int] = {}
        self.presences: dict[str, Presence] = {}
        self.watching_roster = False
        self.send_error: str | None = None
        """When set, :meth:`send_text` raises :class:`SendError` with this text."""
        self.send_gate: asyncio.Event | None = None
        """When given, :meth:`send_text` waits for it first (a slow broker)."""
        self.ack_sends = True
        self.seal_sends = False
        """Mark what is sent to a peer with keys sealed, as the chat does; off unless
        a test asks, so that tests of other things draw no lock."""
        """Report a sent message ``sent`` right after :meth:`send_text` (if connected)."""
        # What the UI did:
        self.sent: list[tuple[str, str]] = []
        self.typing_sent: list[str] = []
        self.edits: list[tuple[str, str]] = []
        """Each :meth:`edit_text`'s message id and new body, in order."""
        self.deletes: list[str] = []
        """Each :meth:`delete_text`'s message id, in order."""
        self.reconnect_calls = 0
        self.added: list[str] = []
        self.removed: list[str] = []
        self.marked_read: list[str] = []
        self.read_up_to: list[str | None] = []
        """The ``up_to`` message id of each :meth:`mark_read` (``None``: all)."""
        self.searches: list[tuple[str, str | None]] = []
        """Each :meth:`search`'s text and peer, in order."""
        self.roster_watch_calls: list[bool] = []
        self.stop_calls = 0
        self.abandon_calls = 0
        self.blocked: list[str] = []
        self.own_devices = Devices(THIS_DEVICE)
        self.forgotten: list[str] = []
        self.sealed: dict[bytes, bytes] = {SEALED_FOR_ALICE: SEALED_INNER}
        """What :meth:`unseal` opens: sealed payload → inner envelope."""
        self.unsealed: list[tuple[str, bytes]] = []
        """Each :meth:`unseal`'s topic and payload, in order."""
        self.keys: dict[str, KeyTrust] = {}
        """Each peer's keys as :meth:`trust` answers (absent: no keys)."""
        self.verified: list[str] = []
        """Each :meth:`verify`'s user, in order."""
        self.run_started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._ids = itertools.count(1)

    # The contract

    def set_listener(self, listener: EventListener | None) -> None:
        self.listener = listener

    @property
    def connection_state(self) -> ConnectionState:
        return self.state

    @property
    def rejected_count(self) -> int:
        return self.rejected

    async def run(self) -> None:
        self.run_started.set()
        for event in self.connect_events:
            await asyncio.sleep(0)
            self.connection(event)
        if self.state is ConnectionState.FAILED:
            return
        await self._stopped.wait()

    async def stop(self) -> None:
        self.stop_calls += 1
        if not self._stopped.is_set():
            self._stopped.set()
            self.connection(ConnectionChanged(ConnectionState.CLOSED))

    def abandon(self) -> None:
        self.abandon_calls += 1

    def reconnect_now(self) -> None:
        self.reconnect_calls += 1

    async def send_text(self, peer: str, body: str) -> ChatMessage:
        if self.send_gate is not None:
            await self.send_gate.wait()
        if peer not in self.rooms:
            validate_user_name(peer, what="peer")
        if self.send_error is not None:
            raise SendError(self.send_error)
        if not body.strip():
            raise SendError("the message is empty")
        if len(body) > self.max_body:
            raise SendError(f"the message is longer than {self.max_body} characters")
        self.sent.append((peer, body))
        sealed = self.seal_sends and self.trust(peer).encrypted
        message = self.seed_message(
            peer, body, NOW, outgoing=True, state=DeliveryState.PENDING, sealed=sealed
        )
        if self.ack_sends and self.state is ConnectionState.CONNECTED:
            asyncio.get_running_loop().call_soon(self.change_state, message.id, DeliveryState.SENT)
        return message

    def _own(self, peer: str, message_id: str) -> ChatMessage:
        message = next((m for m in self.messages.get(peer, []) if m.id == message_id), None)
        if message is None or not message.outgoing or message.deleted:
            raise SendError("not changed: no such message of yours")
        return message

    async def edit_text(self, peer: str, message_id: str, body: str) -> ChatMessage:
        self._own(peer, message_id)
        if not body.strip():
            raise SendError("not edited: the new text is empty (delete the message instead)")
        if len(body) > self.max_body:
            raise SendError(f"the message is longer than {self.max_body} characters")
        self.edits.append((message_id, body))
        return self.change(message_id, body)

    async def delete_text(self, peer: str, message_id: str) -> ChatMessage:
        self._own(peer, message_id)
        self.deletes.append(message_id)
        return self.change(message_id, None)

    async def send_typing(self, peer: str) -> None:
        if peer in self.rooms:
            return
        validate_user_name(peer, what="peer")
        self.typing_sent.append(peer)

    async def contacts(self) -> list[ContactSummary]:
        summaries = [
            ContactSummary(
                contact,
                unread=self.unread.get(user, 0),
                last_message=(self.messages.get(user) or [None])[-1],
            )
            for user, contact in self.contact_list.items()
        ] + [
            replace(room, unread=self.unread.get(key, 0),
                    last_message=(self.messages.get(key) or [None])[-1])
            for key, room in self.rooms.items()
        ]  # fmt: skip
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(
            summaries,
            key=lambda s: s.last_message.ts if s.last_message else epoch,
            reverse=True,
        )

    async def start_room(self, name: str, members: Sequence[str]) -> str:
        room_id = f"room{len(self.rooms) + 1}"
        self.seed_room(room_id, name, [self.user, *members])
        return "#" + room_id

    async def quit_room(self, key: str) -> None:
        self.rooms.pop(key)
        self.left_rooms.append(key)

    async def read_by(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        return {mid: self.read_counts[mid] for mid in ids if mid in self.read_counts}

    async def contact(self, user: str) -> Contact | None:
        return self.contact_list.get(user)

    async def add_contact(self, user: str) -> Contact:
        validate_user_name(user)
        self.added.append(user)
        contact = self.contact_list.get(user)
        if contact is None:
            return self.seed_contact(user, status=ContactStatus.REQUESTED)
        if contact.is_request:
            contact = replace(contact, status=ContactStatus.FRIEND)
            self.contact_list[user] = contact
        return contact

    async def remove_contact(self, user: str) -> None:
        self.removed.append(user)
        self.contact_list.pop(user, None)

    async def dismiss_requests(self, users: list[str], *, block: bool) -> None:
        for user in users:
            await self.remove_contact(user)
        if block:
            self.blocked.extend(users)

    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        messages = self.messages.get(peer, [])
        if before is not None:
            index = next((i for i, m in enumerate(messages) if m.id == before.id), 0)
            messages = messages[:index]
        return list(messages[-limit:]) if limit else []

    async def search(
        self,
        text: str,
        *,
        peer: str | None = None,
        before: ChatMessage | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        """The store's matching rule (:mod:`mqchat.core.search`) over the seeded and
        sent messages, newest first by (time, id), as the store orders them."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.searches.append((text, peer))
        words = search_words(text)
        found = [
            m
            for conversation, messages in self.messages.items()
            if peer is None or conversation == peer
            for m in messages
            if body_matches(words, m.body)
        ]
        found.sort(key=lambda m: (m.ts, m.id), reverse=True)
        if before is not None:
            found = [m for m in found if (m.ts, m.id) < (before.ts, before.id)]
        return found[:limit]

    async def history_after(
        self, peer: str, after: ChatMessage | None, *, limit: int = 50
    ) -> list[ChatMessage]:
        messages = self.messages.get(peer, [])
        if after is not None:
            index = next((i for i, m in enumerate(messages) if m.id == after.id), -1)
            messages = messages[index + 1 :]
        return list(messages[:limit])

    async def mark_read(self, peer: str, up_to: ChatMessage | None = None) -> None:
        """Like the store: incoming ``received`` messages up to ``up_to`` (in the order
        they were seeded, which is the conversation's order) become ``read``."""
        self.marked_read.append(peer)
        self.read_up_to.append(None if up_to is None else up_to.id)
        messages = self.messages.get(peer, [])
        end = len(messages)
        if up_to is not None:
            end = next((i + 1 for i, m in enumerate(messages) if m.id == up_to.id), 0)
        for i, message in enumerate(messages[:end]):
            if not message.outgoing and message.state is DeliveryState.RECEIVED:
                messages[i] = replace(message, state=DeliveryState.READ)
        left = sum(1 for m in messages if not m.outgoing and m.state is DeliveryState.RECEIVED)
        self.unread[peer] = min(self.unread.get(peer, 0), left)

    def presence(self, user: str) -> Presence | None:
        return self.presences.get(user)

    def roster(self) -> list[Presence]:
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(
            self.presences.values(),
            key=lambda p: (not p.online, -(p.since or epoch).timestamp(), p.user),
        )

    async def watch_roster(self, on: bool) -> None:
        self.roster_watch_calls.append(on)
        self.watching_roster = on

    @property
    def this_device(self) -> str:
        return THIS_DEVICE

    def devices(self) -> list[DeviceRecord]:
        return self.own_devices.all()

    async def forget_device(self, device: str) -> None:
        try:
            validate_device_id(device)
        except ValueError as exc:
            raise DeviceRefused(str(exc)) from None
        why = why_not_forget(device, self.own_devices.get(device), me=THIS_DEVICE)
        if why is not None:
            raise DeviceRefused(why)
        if self.state is not ConnectionState.CONNECTED:
            raise DeviceRefused("not connected to the broker: try again once connected")
        self.forgotten.append(device)
        self.set_device(device, None)


def fake_factory(
    backend: FakeBackend,
) -> tuple[list[Settings], Callable[[Settings], ChatBackend]]:
    """A ``connect`` for :func:`mqchat.app.make_app` that returns ``backend`` and
    records the settings it was called with."""
    calls: list[Settings] = []

    def connect(settings: Settings) -> ChatBackend:
        calls.append(settings)
        return backend

    return calls, connect


def seeded_backend() -> FakeBackend:
    """alice's world in the UI tests and snapshots: three friends (bob online with
    two new messages, carol offline, dave never seen), all with keys (protocol v3),
    and erin, online, not a friend, without keys."""
    b = FakeBackend()
    b.seed_contact("bob", "Bob", unread=2)
    b.seed_contact("carol")
    b.seed_contact("dave")
    b.seed_message("carol", "thanks!", at("13:39"), outgoing=True)
    b.seed_message("bob", "hi bob, still on for tonight?", at("13:50"), outgoing=True)
    b.seed_message("bob", "are you coming?", at("13:58"))
    b.seed_message(
        "bob", "yes, on my way", at("14:01"), outgoing=True, state=DeliveryState.DELIVERED
    )
    b.seed_message("bob", "see you at 5", at("14:02"))
    b.seed_presence("alice", PresenceState.ONLINE, at("14:04"), name="Alice")
    b.seed_presence("bob", PresenceState.ONLINE, at("13:02"), name="Bob")
    b.seed_presence("erin", PresenceState.ONLINE, at("09:15"))
    b.seed_presence("carol", PresenceState.OFFLINE, at("13:40"), lost=True)
    for friend in ("bob", "carol", "dave"):
        b.seed_keys(friend, sealed=True)
    return b
