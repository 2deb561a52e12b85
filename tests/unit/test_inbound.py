"""Inbound on its own, with no broker: messages in, and out what it stores, the events
it emits, the replies it queues and the contacts it starts to watch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mqchat.chat.inbound import Inbound
from mqchat.chat.outgoing import prepare_text
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.envelope import (
    Delete,
    Edit,
    FriendRequest,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    encode_envelope,
)
from mqchat.core.events import (
    ChatReceived,
    ContactsChanged,
    Event,
    MessageChanged,
    PeerTyping,
    Rejected,
)
from mqchat.core.model import ContactStatus, DeliveryState, utc_now
from mqchat.core.roster import Roster
from mqchat.mqtt.session import Incoming
from mqchat.store import ChatStore

NS = "t"


@dataclass
class Watched:
    users: set[str] = field(default_factory=set)

    def watches(self, user: str) -> bool:
        return user in self.users

    async def watch(self, user: str) -> None:
        self.users.add(user)


@dataclass
class Queued:
    receipts: list[tuple[str, list[str], ReceiptStatus]] = field(default_factory=list)
    accepts: list[str] = field(default_factory=list)

    def queue_receipt(self, peer: str, ids: list[str], status: ReceiptStatus) -> None:
        self.receipts.append((peer, ids, status))

    def queue_accept(self, peer: str) -> None:
        self.accepts.append(peer)


@dataclass
class Bob:
    inbound: Inbound
    store: ChatStore
    watched: Watched
    queued: Queued
    events: list[Event]

    async def receive(self, sender: str, payload: bytes, *, retain: bool = False) -> None:
        """One message on bob's inbox topic for ``sender``, as the broker delivers it."""
        topic = f"{NS}/u/bob/inbox/{sender}"
        await self.inbound.handle([Incoming(topic, payload, qos=1, retain=retain, mid=1)])


@pytest.fixture
async def bob(tmp_path: Path) -> AsyncIterator[Bob]:
    settings = Settings(
        broker=parse_broker_url("mqtt://localhost"), user="bob", data_dir=tmp_path, namespace=NS
    )
    store = await ChatStore.open(settings.database)

    async def open_store() -> ChatStore:
        return store

    watched, queued, events = Watched({"alice"}), Queued(), []
    inbound = Inbound(
        settings,
        store=open_store,
        roster=Roster(utc_now),
        watchlist=watched,
        replies=queued,
        emit=events.append,
    )
    try:
        yield Bob(inbound, store, watched, queued, events)
    finally:
        await store.close()


async def test_a_strangers_message_is_stored_acknowledged_and_makes_a_contact(bob: Bob) -> None:
    hello = Text.new("carol", "bob", "hi bob")
    await bob.receive("carol", encode_envelope(hello))

    assert [m.body for m in await bob.store.conversation("carol")] == ["hi bob"]
    assert bob.queued.receipts == [("carol", [hello.id], ReceiptStatus.DELIVERED)]
    assert "carol" in bob.watched.users
    contact = await bob.store.contact("carol")
    assert contact is not None and contact.status is ContactStatus.INCOMING
    kinds = [type(e) for e in bob.events]
    assert kinds == [ContactsChanged, ChatReceived]


async def test_a_friend_request_from_a_friend_is_accepted_again(bob: Bob) -> None:
    await bob.store.add_contact("alice", status=ContactStatus.FRIEND)
    await bob.receive("alice", encode_envelope(FriendRequest.new("alice", "bob", name="Alice")))
    assert bob.queued.accepts == ["alice"]


async def test_typing_is_shown_only_for_watched_contacts_and_never_stored(bob: Bob) -> None:
    await bob.receive("alice", encode_envelope(Typing.new("alice", "bob")))
    await bob.receive("mallory", encode_envelope(Typing.new("mallory", "bob")))
    await bob.receive("alice", encode_envelope(Typing.new("alice", "bob")), retain=True)
    assert bob.events == [PeerTyping("alice")]
    assert await bob.store.conversation("alice") == []


async def test_a_receipt_moves_our_message_on(bob: Bob) -> None:
    ours, _data = prepare_text("bob", "alice", "hello alice", max_payload=65536)
    await bob.store.add_message(ours)
    read = Receipt.new("alice", "bob", [ours.id], ReceiptStatus.READ)
    await bob.receive("alice", encode_envelope(read))
    stored = await bob.store.get_message(ours.id)
    assert stored is not None and stored.state is DeliveryState.READ


async def test_a_spoofed_sender_is_rejected_and_counted(bob: Bob) -> None:
    forged = Text.new("alice", "bob", "it's alice, honest")
    await bob.receive("mallory", encode_envelope(forged))
    assert bob.inbound.rejected == 1
    (event,) = bob.events
    assert isinstance(event, Rejected) and "'from' is 'alice'" in event.reason
    assert await bob.store.conversation("alice") == []
    assert bob.queued.receipts == []


async def test_a_change_of_our_own_message_from_our_own_inbox_applies(bob: Bob) -> None:
    # Another device of bob's sends him a copy of his own change: the only rule is
    # that its sender sent the target, whichever way the target went.
    ours, _data = prepare_text("bob", "alice", "helo alice", max_payload=65536)
    await bob.store.add_message(ours)
    await bob.receive("bob", encode_envelope(Edit.new("bob", "bob", ours.id, "hello alice")))
    (event,) = bob.events
    assert isinstance(event, MessageChanged) and event.message.body == "hello alice"
    assert event.message.outgoing and event.message.peer == "alice"
    await bob.receive("bob", encode_envelope(Delete.new("bob", "bob", ours.id)))
    stored = await bob.store.get_message(ours.id)
    assert stored is not None and stored.deleted and stored.body == ""
    assert bob.inbound.rejected == 0


async def test_a_change_of_someone_elses_message_is_rejected_and_counted(bob: Bob) -> None:
    hello = Text.new("alice", "bob", "hi bob")
    await bob.receive("alice", encode_envelope(hello))
    bob.events.clear()
    await bob.receive("mallory", encode_envelope(Edit.new("mallory", "bob", hello.id, "pwned")))
    await bob.receive("mallory", encode_envelope(Delete.new("mallory", "bob", hello.id)))
    await bob.receive("mallory", encode_envelope(Edit.new("mallory", "bob", "no-such-id", "x")))
    assert bob.inbound.rejected == 2  # the unknown target is ignored, not counted
    assert [type(e) for e in bob.events] == [Rejected, Rejected]
    [stored] = await bob.store.conversation("alice")
    assert (stored.body, stored.edited, stored.deleted) == ("hi bob", None, False)
