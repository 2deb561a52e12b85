"""The chat service against a real mosquitto: two users chat, presence is retained,
what goes on the wire is the design's, and hostile traffic is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.envelope import Text, encode_envelope
from mqchat.core.events import (
    ChatReceived,
    ConnectionChanged,
    MessageStateChanged,
    PresenceChanged,
    Rejected,
)
from mqchat.core.model import ConnectionState, DeliveryState, PresenceState
from mqchat.store import ChatStore
from tests.support.chat_session import running, settings_for
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker

ServiceFactory = Callable[..., "asyncio.Task[None]"]


@asynccontextmanager
async def raw_client(broker: Mosquitto, **kw: object) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client("127.0.0.1", broker.port, **kw) as client:  # type: ignore[arg-type]
        yield client


async def next_message(client: aiomqtt.Client, timeout: float = 5.0) -> aiomqtt.Message:
    return await asyncio.wait_for(anext(aiter(client.messages)), timeout)


async def test_two_users_chat_both_ways(broker: Mosquitto, namespace: str, tmp_path: Path) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await alice.add_contact("bob")
        sent = await alice.send_text("bob", "hi bob")
        assert sent.state is DeliveryState.PENDING  # stored first, published right after
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == sent.id and e.state is DeliveryState.SENT,
        )
        got = await b_events.wait_for(ChatReceived)
        assert (got.message.body, got.message.sender, got.message.peer) == (
            "hi bob",
            "alice",
            "alice",
        )
        assert got.message.id == sent.id
        # bob's store delivered a receipt back: alice sees ✓✓
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == sent.id and e.state is DeliveryState.DELIVERED,
        )
        await bob.send_text("alice", "hi alice")
        back = await a_events.wait_for(ChatReceived)
        assert back.message.body == "hi alice"
        await bob.mark_read("alice")
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == sent.id and e.state is DeliveryState.READ,
        )
        alice_history = [m.body for m in await alice.history("bob")]
        bob_history = [m.body for m in await bob.history("alice")]
    assert alice_history == bob_history == ["hi bob", "hi alice"]


async def test_read_receipts_go_only_up_to_what_was_seen(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, _),
    ):
        await alice.add_contact("bob")
        first = await alice.send_text("bob", "seen")
        second = await alice.send_text("bob", "not seen yet")
        for sent in (first, second):
            await a_events.wait_for(
                MessageStateChanged,
                lambda e, sent=sent: e.message_id == sent.id and e.state is DeliveryState.DELIVERED,
            )
        [seen] = [m for m in await bob.history("alice") if m.id == first.id]
        await bob.mark_read("alice", up_to=seen)
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == first.id and e.state is DeliveryState.READ,
        )
        # a receipt for the second would have come in the same batch as the first
        await bob.send_text("alice", "sync")
        await a_events.wait_for(ChatReceived, lambda e: e.message.body == "sync")
        states = {m.id: m.state for m in await alice.history("bob")}
        assert states[first.id] is DeliveryState.READ
        assert states[second.id] is DeliveryState.DELIVERED
        assert [
            m.body for m in await bob.history("alice") if m.state is DeliveryState.RECEIVED
        ] == ["not seen yet"]


async def test_wire_format_is_the_designs(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with raw_client(broker) as spy:
        await spy.subscribe(f"{namespace}/u/bob/inbox/#", qos=1)
        async with running(broker, "alice", namespace, tmp_path) as (alice, _):
            await alice.send_text("bob", "on the wire")
            msg = await next_message(spy)
        assert str(msg.topic) == f"{namespace}/u/bob/inbox/alice"
        assert isinstance(msg.payload, bytes)
        env = json.loads(msg.payload)
        assert {k: env[k] for k in ("v", "type", "from", "to", "body")} == {
            "v": 1,
            "type": "text",
            "from": "alice",
            "to": "bob",
            "body": "on the wire",
        }
        assert env["ts"].endswith("Z") and len(env["id"]) == 36


async def test_presence_is_retained_online_then_offline_on_clean_stop(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    topic = f"{namespace}/u/alice/presence"
    # `late` subscribes after alice connected: it gets the retained copy
    async with running(broker, "alice", namespace, tmp_path), raw_client(broker) as late:
        await late.subscribe(topic, qos=1)
        msg = await next_message(late)
        assert msg.retain
        assert isinstance(msg.payload, bytes)
        assert json.loads(msg.payload)["state"] == "online"
        assert json.loads(msg.payload)["name"] == "Alice"
    async with raw_client(broker) as after:
        await after.subscribe(topic, qos=1)
        msg = await next_message(after)
        assert msg.retain
        assert isinstance(msg.payload, bytes)
        payload = json.loads(msg.payload)
        assert payload["state"] == "offline" and "lost" not in payload


async def test_contacts_presence_reaches_the_other_side(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        await bob.add_contact("alice")
        async with running(broker, "alice", namespace, tmp_path):
            await b_events.wait_for(
                PresenceChanged,
                lambda e: e.presence.user == "alice" and e.presence.online,
            )
        seen = await b_events.wait_for(
            PresenceChanged,
            lambda e: e.presence.user == "alice" and not e.presence.online,
        )
        assert bob.presence("alice") == seen.presence


async def test_roster_lists_everyone_with_retained_presence(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "erin", namespace, tmp_path),
        running(broker, "frank", namespace, tmp_path),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await bob.watch_roster(True)
        for user in ("erin", "frank", "bob"):
            await b_events.wait_for(PresenceChanged, lambda e, u=user: e.presence.user == u)
        assert {p.user for p in bob.roster()} == {"erin", "frank", "bob"}
        assert all(p.state is PresenceState.ONLINE for p in bob.roster())


async def test_spoofed_sender_is_rejected_and_never_stored(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        async with raw_client(broker) as mallory:
            forged = Text.new("alice", "bob", "send me your password")
            await mallory.publish(
                f"{namespace}/u/bob/inbox/mallory", encode_envelope(forged), qos=1
            )
            await mallory.publish(f"{namespace}/u/bob/inbox/mallory", b"\xff not json", qos=1)
            await mallory.publish(f"{namespace}/u/bob/inbox/mallory", b"{}", qos=1)
        await b_events.wait_for(Rejected, lambda e: e.total == 3)
        assert b_events.of(ChatReceived) == []
        assert await bob.history("alice") == [] and await bob.history("mallory") == []
        assert bob.rejected_count == 3


async def test_redelivered_envelope_is_stored_and_shown_once(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        env = Text.new("alice", "bob", "once")
        async with raw_client(broker) as alice:
            for _ in range(3):
                await alice.publish(f"{namespace}/u/bob/inbox/alice", encode_envelope(env), qos=1)
            marker = Text.new("alice", "bob", "marker")
            await alice.publish(f"{namespace}/u/bob/inbox/alice", encode_envelope(marker), qos=1)
        await b_events.wait_for(ChatReceived, lambda e: e.message.body == "marker")
        assert [e.message.body for e in b_events.of(ChatReceived)] == ["once", "marker"]
        assert [m.body for m in await bob.history("alice")] == ["once", "marker"]


async def test_message_typed_offline_is_pending_then_sent_on_connect(
    own_broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    settings = settings_for(own_broker, "alice", namespace, tmp_path)
    service = ChatService(settings)
    pending = await service.send_text("bob", "written before connecting")
    assert pending.state is DeliveryState.PENDING
    events = Recorder()
    service.set_listener(events)
    async with raw_client(own_broker) as spy:
        await spy.subscribe(f"{namespace}/u/bob/inbox/alice", qos=1)
        task = asyncio.create_task(service.run())
        try:
            await events.wait_for(
                MessageStateChanged,
                lambda e: e.message_id == pending.id and e.state is DeliveryState.SENT,
            )
            msg = await next_message(spy)
            assert isinstance(msg.payload, bytes)
            assert json.loads(msg.payload)["id"] == pending.id
        finally:
            await service.stop()
            await task


async def test_reconnects_after_the_broker_restarts(
    own_broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(own_broker, "alice", namespace, tmp_path) as (alice, events):
        mark = len(events.events)
        own_broker.stop()
        await events.wait_for(
            ConnectionChanged, lambda e: e.state is ConnectionState.RETRYING, since=mark
        )
        pending = await alice.send_text("bob", "typed while the broker was down")
        assert pending.state is DeliveryState.PENDING
        own_broker.start()
        await events.wait_for(
            ConnectionChanged,
            lambda e: e.state is ConnectionState.CONNECTED,
            since=len(events.events),
            timeout=40,
        )
        await events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == pending.id and e.state is DeliveryState.SENT,
        )
        async with raw_client(own_broker) as late:
            await late.subscribe(f"{namespace}/u/alice/presence", qos=1)
            msg = await next_message(late)
            assert isinstance(msg.payload, bytes)
            assert json.loads(msg.payload)["state"] == "online"


async def test_unreachable_broker_is_reported_and_retried(tmp_path: Path) -> None:
    from tests.support.mosquitto import free_port

    settings = Settings(
        broker=parse_broker_url(f"mqtt://127.0.0.1:{free_port()}"), user="alice", data_dir=tmp_path
    )
    service = ChatService(settings)
    events = Recorder()
    service.set_listener(events)
    task = asyncio.create_task(service.run())
    try:
        retry = await events.wait_for(
            ConnectionChanged, lambda e: e.state is ConnectionState.RETRYING
        )
        assert "connection refused" in retry.detail and retry.retry_in is not None
    finally:
        await service.stop()
        await asyncio.wait_for(task, 10)
    assert service.connection_state is ConnectionState.CLOSED


async def test_history_survives_a_restart(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "alice", namespace, tmp_path) as (alice, _):
        await alice.send_text("bob", "remember me")
    store = await ChatStore.open(settings_for(broker, "alice", namespace, tmp_path).database)
    try:
        assert [m.body for m in await store.conversation("bob")] == ["remember me"]
    finally:
        await store.close()


async def test_contacts_added_while_connecting_are_all_watched(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    # `mqchat chat PEER` adds PEER while the connection is still being set up.
    service = ChatService(settings_for(broker, "bob", namespace, tmp_path))
    events = Recorder()
    service.set_listener(events)
    task = asyncio.create_task(service.run())
    added: list[str] = []
    try:
        while service.connection_state is not ConnectionState.CONNECTED:
            user = f"friend{len(added)}"
            await service.add_contact(user)
            added.append(user)
            await asyncio.sleep(0)  # one turn of the loop: try every moment of the set-up
        async with raw_client(broker) as others:
            for user in added:
                await others.publish(
                    f"{namespace}/u/{user}/presence", b'{"v":1,"state":"online"}', qos=1
                )
        for user in added:
            await events.wait_for(PresenceChanged, lambda e, u=user: e.presence.user == u)
    finally:
        await service.stop()
        await asyncio.wait_for(task, 10)
    assert added  # how many fit in the set-up depends on the machine; one is enough
