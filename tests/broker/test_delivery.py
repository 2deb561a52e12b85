"""Delivery a person can rely on, against a real mosquitto: offline messages arrive
on return, a SIGKILL in the middle of a flood loses and duplicates nothing, a broker
crash ends with the conversation going on in order, a 3.1.1-only broker is used
with 3.1.1, and friend requests, receipts and typing reach the other side."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.envelope import (
    FriendAccept,
    Receipt,
    ReceiptStatus,
    Text,
    encode_envelope,
    parse_envelope,
)
from mqchat.core.events import (
    ChatReceived,
    ConnectionChanged,
    ContactsChanged,
    MessageStateChanged,
    PeerTyping,
)
from mqchat.core.model import ConnectionState, ContactStatus, DeliveryState
from mqchat.store import ChatStore
from mqchat.tools.send import send_once
from tests.support.chat_session import befriend, connected_service, knows, running, settings_for
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder
from tests.support.v311_proxy import V311OnlyProxy

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


def connected(e: ConnectionChanged) -> bool:
    return e.state is ConnectionState.CONNECTED


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[ChatService, Recorder]]:
    """A running ChatService with a quick reconnect; stopped cleanly afterwards."""
    async with connected_service(settings, backoff=Backoff(initial=0.2, cap=1.0)) as (
        service,
        events,
        _,
    ):
        yield service, events


async def state_reached(events: Recorder, message_id: str, state: DeliveryState) -> None:
    await events.wait_for(
        MessageStateChanged, lambda e: e.message_id == message_id and e.state is state
    )


async def stored_bodies(settings: Settings, peer: str) -> list[str]:
    async with await ChatStore.open(settings.database) as store:
        return [m.body for m in await store.conversation(peer)]


# Offline delivery


async def test_messages_sent_while_offline_arrive_on_return(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    bob_settings = settings_for(broker, "bob", namespace, tmp_path)
    async with serving(bob_settings) as (bob, _):
        # bob has been online once: the broker now keeps his session, and queues what
        # alice (whom he asked) sends; a stranger's it would not (test_hardening.py).
        await bob.add_contact("alice")
    async with running(broker, "alice", namespace, tmp_path) as (alice, a_events):
        sent = [await alice.send_text("bob", f"while you were away {i}") for i in range(3)]
        for message in sent:
            await state_reached(a_events, message.id, DeliveryState.SENT)
        async with serving(bob_settings) as (_bob, b_events):
            for message in sent:
                await b_events.wait_for(ChatReceived, lambda e, m=message: e.message.id == m.id)
            assert [e.message.body for e in b_events.of(ChatReceived)] == [m.body for m in sent]
            for message in sent:
                await state_reached(a_events, message.id, DeliveryState.DELIVERED)


# SIGKILL in a flood


class Receiver:
    """bob in a process of his own, printing what he stored."""

    def __init__(self, url: str, namespace: str, data: Path) -> None:
        self.args = [
            sys.executable,
            "-m",
            "tests.support.peer_process",
            url,
            "bob",
            namespace,
            str(data),
        ]
        self.shown: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        # What the broker kept for bob is read (and may be stored) while he subscribes.
        while (line := await self._line(20)) != "connected":
            assert line.startswith("received "), line
            self.shown.append(line.split()[1])

    async def _line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), timeout)).decode().strip()

    async def read_until(self, total: int, timeout: float = 60) -> None:
        """Until ``total`` messages were shown across every run so far."""
        async with asyncio.timeout(timeout):
            while len(self.shown) < total:
                line = await self._line(timeout)
                assert line.startswith("received "), line
                self.shown.append(line.split()[1])

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.proc = None

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()
            self.proc = None


async def test_sigkill_during_a_flood_stores_every_message_exactly_once(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    total = 2500
    await knows(settings_for(broker, "bob", namespace, tmp_path), "alice")
    receiver = Receiver(broker.url, namespace, tmp_path)
    flood = [Text.new("alice", "bob", f"flood {i:04d}") for i in range(total)]
    published = 0

    async def publish_flood() -> None:
        nonlocal published
        async with aiomqtt.Client("127.0.0.1", broker.port) as alice:
            for env in flood:
                await alice.publish(f"{namespace}/u/bob/inbox/alice", encode_envelope(env), qos=1)
                published += 1
                if published % 100 == 0:
                    # A pace a receiver storing each message cannot always keep up with,
                    # so the kills below land in the middle of the flood.
                    await asyncio.sleep(0.05)

    try:
        await receiver.start()
        publisher = asyncio.create_task(publish_flood())
        await receiver.read_until(400)
        await receiver.kill()
        killed_during_flood = published < total
        await receiver.start()
        await receiver.read_until(1200)
        await receiver.kill()
        await receiver.start()
        await publisher
        # Everything not shown yet arrives now; the redelivered ones are not shown again.
        stored: list[str] = []
        async with asyncio.timeout(60):
            while len(stored) < total:
                await receiver.read_until(len(receiver.shown) + 1)
                async with await ChatStore.open(
                    settings_for(broker, "bob", namespace, tmp_path).database
                ) as store:
                    stored = [m.id for m in await store.conversation("alice")]
    finally:
        await receiver.stop()
    assert killed_during_flood, "the first kill came after the flood had ended"
    assert sorted(stored) == sorted(env.id for env in flood)  # each once: ids are unique
    assert len(receiver.shown) == len(set(receiver.shown)), "a message was shown twice"
    assert set(receiver.shown) <= set(stored)


# Broker crash


async def test_conversation_goes_on_after_the_broker_is_killed_and_restarted(
    tmp_path: Path, namespace: str
) -> None:
    # Save the broker's state on every change, as a broker that must survive a
    # crash is configured: otherwise bob's session dies with it.
    broker = Mosquitto(tmp_path / "broker", extra_config="autosave_interval 1\n")
    broker.extra_config += "autosave_on_changes true\n"
    broker.start()
    try:
        alice_settings = settings_for(broker, "alice", namespace, tmp_path)
        bob_settings = settings_for(broker, "bob", namespace, tmp_path)
        async with (
            serving(alice_settings) as (alice, a_events),
            serving(bob_settings) as (
                bob,
                b_events,
            ),
        ):
            await befriend(alice, a_events, bob, b_events)
            first = await alice.send_text("bob", "before the crash")
            await b_events.wait_for(ChatReceived, lambda e: e.message.id == first.id)
            mark_a, mark_b = len(a_events.events), len(b_events.events)
            broker.stop(signal.SIGKILL)
            await a_events.wait_for(
                ConnectionChanged, lambda e: e.state is ConnectionState.RETRYING, since=mark_a
            )
            typed = [await alice.send_text("bob", f"typed during the outage {i}") for i in range(5)]
            assert all(m.state is DeliveryState.PENDING for m in typed)
            broker.start()
            await a_events.wait_for(ConnectionChanged, connected, since=mark_a, timeout=30)
            await b_events.wait_for(ConnectionChanged, connected, since=mark_b, timeout=30)
            for message in typed:
                await b_events.wait_for(ChatReceived, lambda e, m=message: e.message.id == m.id)
            received = [e.message.body for e in b_events.of(ChatReceived)]
            assert received == ["before the crash"] + [m.body for m in typed]
            # presence was published again on the new broker
            async with aiomqtt.Client("127.0.0.1", broker.port) as spy:
                await spy.subscribe(f"{namespace}/u/alice/presence", qos=1)
                msg = await asyncio.wait_for(anext(aiter(spy.messages)), 5)
                assert isinstance(msg.payload, bytes)
                assert json.loads(msg.payload)["state"] == "online"
    finally:
        broker.stop()


# A broker that speaks only MQTT 3.1.1


async def test_falls_back_to_mqtt_311_and_says_so(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with V311OnlyProxy(broker.port) as proxy:
        old = Settings(
            broker=parse_broker_url(proxy.url),
            user="alice",
            data_dir=tmp_path,
            namespace=namespace,
            keepalive=5,
        )
        async with (
            serving(old) as (alice, a_events),
            running(broker, "bob", namespace, tmp_path) as (bob, b_events),
        ):
            up = await a_events.wait_for(ConnectionChanged, connected)
            assert up.protocol == "3.1.1"
            assert "MQTT 3.1.1" in up.detail and "does not support MQTT 5" in up.detail
            assert proxy.refused_v5 >= 1 and proxy.passed >= 1
            await befriend(alice, a_events, bob, b_events)
            sent = await alice.send_text("bob", "over 3.1.1")
            got = await b_events.wait_for(ChatReceived)
            assert got.message.id == sent.id
            await state_reached(a_events, sent.id, DeliveryState.DELIVERED)
            await bob.send_text("alice", "and back")
            assert (await a_events.wait_for(ChatReceived)).message.body == "and back"
        # The persistent session works with 3.1.1 too: bob writes while alice is away.
        async with running(broker, "bob", namespace, tmp_path) as (bob, _):
            await bob.send_text("alice", "while you were away")
            async with serving(old) as (_alice, a_events):
                got = await a_events.wait_for(
                    ChatReceived, lambda e: e.message.body == "while you were away"
                )
        # and a one-shot send falls back the same way
        await send_once(old, "bob", "one shot over 3.1.1")
    assert "one shot over 3.1.1" in await stored_bodies(old, "bob")


# Friend requests, strangers, receipts, typing


async def test_friend_request_then_accept(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        asked = await alice.add_contact("bob")
        assert asked.status is ContactStatus.REQUESTED
        request = await b_events.wait_for(ContactsChanged, lambda e: e.user == "alice")
        assert request.contact is not None and request.contact.status is ContactStatus.INCOMING
        assert request.contact.display_name == "Alice"  # carried by the request
        accepted = await bob.add_contact("alice")
        assert accepted.status is ContactStatus.FRIEND
        done = await a_events.wait_for(ContactsChanged, lambda e: e.user == "bob")
        assert done.contact is not None and done.contact.status is ContactStatus.FRIEND
        assert (await alice.contact("bob")) == done.contact


async def test_a_stranger_appears_as_a_request_and_cannot_befriend_us(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        await bob.add_contact("alice")
        async with aiomqtt.Client("127.0.0.1", broker.port) as carol:
            topic = f"{namespace}/u/bob/inbox/carol"
            accept = FriendAccept.new("carol", "bob", name="Carol")
            await carol.publish(topic, encode_envelope(accept), qos=1)  # nobody asked carol
            hello = Text.new("carol", "bob", "hi, we met yesterday")
            await carol.publish(topic, encode_envelope(hello), qos=1)
        got = await b_events.wait_for(ChatReceived)
        assert got.message.peer == "carol"
        carol_contact = await bob.contact("carol")
        assert carol_contact is not None and carol_contact.status is ContactStatus.INCOMING
        assert [m.body for m in await bob.history("carol")] == ["hi, we met yesterday"]
        assert await bob.history("alice") == []  # not mixed into another conversation


async def test_every_message_of_a_burst_is_acknowledged_as_delivered(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    count = 60
    async with running(broker, "bob", namespace, tmp_path) as (_bob, b_events):
        async with aiomqtt.Client("127.0.0.1", broker.port) as alice:
            await alice.subscribe(f"{namespace}/u/alice/inbox/bob", qos=1)
            burst = [Text.new("alice", "bob", f"burst {i}") for i in range(count)]
            for env in burst:
                await alice.publish(f"{namespace}/u/bob/inbox/alice", encode_envelope(env), qos=1)
            acknowledged: list[str] = []
            receipts = 0
            async with asyncio.timeout(10):
                async for message in alice.messages:
                    assert isinstance(message.payload, bytes)
                    receipt = parse_envelope(message.payload)
                    if isinstance(receipt, Receipt) and receipt.status is ReceiptStatus.DELIVERED:
                        receipts += 1
                        acknowledged.extend(receipt.ids)
                    if len(acknowledged) >= count:
                        break
        assert sorted(acknowledged) == sorted(env.id for env in burst)
        # how many envelopes carried them depends on timing (merging is tested alone)
        assert 1 <= receipts <= count
        assert len(b_events.of(ChatReceived)) == count


async def test_typing_reaches_the_peer_and_is_never_stored(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, _),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await bob.add_contact("alice")
        await alice.add_contact("bob")
        await alice.send_typing("bob")
        await alice.send_typing("bob")  # within the interval: not sent again
        typing = await b_events.wait_for(PeerTyping)
        assert typing.peer == "alice"
        marker = await alice.send_text("bob", "done typing")
        await b_events.wait_for(ChatReceived, lambda e: e.message.id == marker.id)
        assert len(b_events.of(PeerTyping)) == 1
        assert [m.body for m in await bob.history("alice")] == ["done typing"]


async def test_a_second_instance_on_the_same_data_dir_is_refused_and_the_first_gets_everything(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    # Two windows on one data dir used to split the live messages between them (each
    # showed what it stored first), the second saying only "connected". Now the
    # second refuses with the reason, and the first window gets every message.
    settings = settings_for(broker, "bob", namespace, tmp_path)
    async with running(broker, "bob", namespace, tmp_path) as (_first, first_events):
        second = ChatService(settings)
        second_events = Recorder()
        second.set_listener(second_events)
        await asyncio.wait_for(second.run(), 10)  # returns: it gives up at once
        failed = second_events.of(ConnectionChanged)[-1]
        assert failed.state is ConnectionState.FAILED
        assert "another mqchat" in failed.detail and "already running as bob" in failed.detail
        assert "--data-dir" in failed.detail
        await second.stop()
        async with aiomqtt.Client("127.0.0.1", broker.port) as carol:
            for n in range(3):
                hello = Text.new("carol", "bob", f"to the one window {n}")
                await carol.publish(f"{namespace}/u/bob/inbox/carol", encode_envelope(hello), qos=1)
        await first_events.wait_for(ChatReceived, lambda e: e.message.body.endswith(" 2"))
        assert [e.message.body for e in first_events.of(ChatReceived)] == [
            f"to the one window {n}" for n in range(3)
        ]
        states = [e.state for e in first_events.of(ConnectionChanged)]
        assert states == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
