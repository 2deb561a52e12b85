"""End-to-end encryption on a real mosquitto (protocol v3, docs/protocol.md#encryption):
the broker carries only ciphertext, history keeps plain text; what an attacker on
the broker makes of a sealed message (tampered, replayed, re-sealed with another
key, or plain text once encryption began) is refused, counted and shown as a
warning, never as the peer's message; a peer's new keys warn before their first
message under them."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mqchat.chat import inbound, inbound_parts
from mqchat.core.envelope import Text, encode_envelope
from mqchat.core.events import (
    ChatReceived,
    DevicesChanged,
    MessageStateChanged,
    Notice,
    Rejected,
    RoomChanged,
    TrustChanged,
)
from mqchat.core.model import DeliveryState
from mqchat.core.topics import inbox_topic, keys_topic
from mqchat.crypto.identity import DeviceIdentity
from mqchat.crypto.seal import Binding, seal
from tests.support.chat_session import befriend, running
from tests.support.cli import mqchat
from tests.support.deployed_broker import RawClient
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def spy_on(broker: Mosquitto, ns: str) -> RawClient:
    spy = await RawClient(broker.port, "spy", None).connect()
    await spy.subscribe(f"{ns}/#")
    return spy


def chat_payloads(spy: RawClient) -> list[tuple[str, bytes]]:
    """What the spy got on inbox and requests topics so far."""
    got = []
    while not spy.messages.empty():
        message = spy.messages.get_nowait()
        if "/inbox/" in message.topic or "/requests/" in message.topic:
            got.append((message.topic, bytes(message.payload)))
    return got


async def test_the_broker_carries_only_ciphertext(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    spy = await spy_on(broker, namespace)
    try:
        async with (
            running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
            running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
        ):
            await befriend(alice, on_alice, bob, on_bob)
            await alice.send_typing("bob")
            sent = await alice.send_text("bob", "the eagle lands at noon")
            await on_bob.wait_for(ChatReceived, lambda e: e.message.id == sent.id)
            await bob.mark_read("alice")
            await on_alice.wait_for(
                MessageStateChanged,
                lambda e: e.message_id == sent.id and e.state is DeliveryState.READ,
            )
            await alice.edit_text("bob", sent.id, "the eagle lands at one")
            reply = await bob.send_text("alice", "roger that")
            await on_alice.wait_for(ChatReceived, lambda e: e.message.id == reply.id)

            history = await alice.history("bob")
            assert [m.body for m in history] == ["the eagle lands at one", "roger that"]
            assert all(m.sealed for m in history)
    finally:
        spy.close()
    payloads = chat_payloads(spy)
    kinds = {json.loads(p)["type"] for _t, p in payloads if p}
    assert kinds == {"sealed"}, kinds
    assert len(payloads) >= 6  # requests, accept, typing, texts, receipts, the edit
    for word in (b"eagle", b"roger", b"Alice", b"Bob", b"friend_request", b"receipt"):
        assert not any(word in p for _t, p in payloads), word


async def spied(spy: RawClient, topic: str, message_id: str) -> bytes:
    """The payload the spy got on ``topic`` with ``message_id`` (it may come to the
    spy after it came to the chat: awaited)."""
    while True:
        message = await spy.next_message()
        payload = bytes(message.payload)
        if message.topic == topic and payload and json.loads(payload)["id"] == message_id:
            return payload


def flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


async def test_what_an_attacker_makes_of_a_sealed_message_is_refused(
    broker: Mosquitto, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "KEY_WAIT_S", 0.5)
    # Time passes fast: a copy of the same bytes at the same QoS is a replay at once
    # (the broker's own second copy comes at the other QoS, and is no replay).
    ticks = itertools.count(step=10.0)
    monkeypatch.setattr(inbound_parts, "_now", lambda: next(ticks))
    spy = await spy_on(broker, namespace)
    try:
        async with (
            running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
            running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
        ):
            await befriend(alice, on_alice, bob, on_bob)
            genuine = await bob.send_text("alice", "the real one")
            await on_alice.wait_for(ChatReceived, lambda e: e.message.id == genuine.id)
            topic = inbox_topic(namespace, "alice", "bob")
            captured = await spied(spy, topic, genuine.id)
            outer = json.loads(captured)
            mallory = DeviceIdentity.generate()
            bob_device = outer["sealed"]["from"]

            def resealed(device: str, body: str) -> bytes:
                text = Text.new("bob", "alice", body)
                me = alice.encryption.public
                box = seal(
                    encode_envelope(text),
                    Binding(text.id, "sealed", "bob", "alice"),
                    mallory,
                    device,
                    [me],
                )
                head = {"v": 3, "id": text.id, "type": "sealed", "from": "bob", "to": "alice",
                        "ts": outer["ts"]}  # fmt: skip
                return json.dumps(head | {"sealed": json.loads(box)}).encode()

            tampered = json.loads(captured)
            tampered["sealed"]["ct"] = flip(tampered["sealed"]["ct"])
            under_another_id = json.loads(captured)
            under_another_id["id"] = under_another_id["id"][:-2] + "ff"
            attacks = {
                "tampered": (json.dumps(tampered).encode(), "does not open"),
                "replayed": (captured, "replayed"),
                "replayed under another id": (
                    json.dumps(under_another_id).encode(),
                    "does not open",
                ),
                "re-sealed with another key": (
                    resealed(bob_device, "it is me, bob"),
                    "does not open",
                ),
                "from a device nobody announced": (
                    resealed("0badc0de", "it is me, bob, new phone"),
                    "whose keys we do not have",
                ),
                "plain text": (
                    encode_envelope(Text.new("bob", "alice", "plain and simple")),
                    "in plain text from bob, who encrypts",
                ),
            }
            mallory_client = await RawClient(broker.port, "mallory", None).connect()
            try:
                for name, (payload, why) in attacks.items():
                    before = alice.rejected_count
                    mark = len(on_alice.events)
                    await mallory_client.publish(topic, payload)
                    await on_alice.wait_for(Rejected, lambda e, w=why: w in e.reason)
                    assert alice.rejected_count == before + 1, name
                    warned = [e for e in on_alice.events[mark:] if isinstance(e, Notice)]
                    assert warned and warned[0].title.startswith("⚠"), name
            finally:
                mallory_client.close()
            # None of it was shown or stored as bob's.
            assert [m.body for m in await alice.history("bob")] == ["the real one"]
            received = [e for e in on_alice.events if isinstance(e, ChatReceived)]
            assert [e.message.body for e in received] == ["the real one"]
            # And bob still gets through.
            after = await bob.send_text("alice", "still me")
            await on_alice.wait_for(ChatReceived, lambda e: e.message.id == after.id)
    finally:
        spy.close()


async def test_new_keys_warn_before_the_first_message_under_them(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(alice, on_alice, bob, on_bob)
        assert alice.encryption.trust("bob").devices == 1
        assert alice.encryption.trust("bob").changed is None
        await alice.stop()
    # bob, on a new data dir (new keys), writes while alice is away.
    async with running(broker, "bob", namespace, tmp_path / "bob-new") as (bob, on_bob):
        await bob.add_contact("alice")  # a friend already: alice's side accepts on return
        late = await bob.send_text("alice", "new laptop, same bob")
        await on_bob.wait_for(
            MessageStateChanged, lambda e: e.message_id == late.id and e.state is DeliveryState.SENT
        )
    async with running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice):
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == late.id)
        assert got.message.sealed
        events = on_alice.events
        warning = next(
            i for i, e in enumerate(events) if isinstance(e, Notice) and "bob's keys" in e.title
        )
        assert warning < events.index(got)
        changed = [e for e in events[: warning + 2] if isinstance(e, TrustChanged)]
        assert changed and changed[-1].trust.changed is not None
        assert alice.encryption.trust("bob").devices == 2
        assert not alice.encryption.trust("bob").verified


async def test_a_room_and_a_second_device_are_sealed_too(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    """carol on two devices, a room of alice, bob and carol: carol's second device
    reads the room; dave, subscribed to ``#``, reads nothing of it."""
    dave = await spy_on(broker, namespace)
    try:
        async with (
            running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
            running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
            running(broker, "carol", namespace, tmp_path / "carol1") as (carol, on_carol),
            running(broker, "carol", namespace, tmp_path / "carol2") as (carol2, on_carol2),
        ):
            for events in (on_carol, on_carol2):
                await events.wait_for(
                    DevicesChanged, lambda e: sum(d.online for d in e.devices) == 2
                )
            room = await alice.create_room("secret plans", ["bob", "carol"])
            for events in (on_bob, on_carol, on_carol2):
                await events.wait_for(RoomChanged, lambda e: e.room.joined)
            said = {
                who.user: (await who.send_room_text("secret plans", f"whisper from {who.user}")).id
                for who in (alice, bob, carol)
            }
            for events, others in [
                (on_alice, {"bob", "carol"}),
                (on_bob, {"alice", "carol"}),
                (on_carol2, {"alice", "bob", "carol"}),  # carol's own, copied to her other device
            ]:
                for user in others:
                    got = await events.wait_for(
                        ChatReceived, lambda e, u=user: e.message.id == said[u]
                    )
                    assert got.message.sealed and got.message.body == f"whisper from {user}"
            history = await carol2.history(room.key)
            assert {m.body for m in history} == {f"whisper from {u}" for u in said}
    finally:
        dave.close()
    payloads = chat_payloads(dave)
    assert {json.loads(p)["type"] for _t, p in payloads if p} == {"sealed"}
    for word in (b"whisper", b"secret plans", b"room_text", b"room_state"):
        assert not any(word in p for _t, p in payloads), word


async def test_a_script_sends_sealed_too(broker: Mosquitto, namespace: str, tmp_path: Path) -> None:
    """`mqchat send` publishes on a connection of its own: sealed like the chat's, or
    alice, who has had sealed messages from bob, would refuse it."""
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(alice, on_alice, bob, on_bob)
        first = await bob.send_text("alice", "from the chat")
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == first.id)
        assert got.message.sealed and alice.trust("bob").sealed
        room = await alice.create_room("ops", ["bob"])
        await on_bob.wait_for(RoomChanged, lambda e: e.room.joined)
        for args in (["alice", "from a script"], ["--room", "ops", "to the room, from a script"]):
            done = await asyncio.to_thread(
                mqchat,
                "send",
                *args,
                "--user",
                "bob",
                "--broker",
                broker.url,
                data=tmp_path / "bob",
                env={"MQCHAT_NAMESPACE": namespace},
            )
            assert done.returncode == 0, done.stderr
            body = args[-1]
            got = await on_alice.wait_for(ChatReceived, lambda e, b=body: e.message.body == b)
            assert got.message.sealed
        assert alice.rejected_count == 0
        assert [m.body for m in await alice.history(room.key)] == ["to the room, from a script"]


async def test_a_message_near_the_size_limit_arrives_sealed(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    """Sealed, a message is a third larger on the wire (base64): the receiver holds the
    inside to the limit, not the ciphertext."""
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(alice, on_alice, bob, on_bob)
        body = "é" * 32_000  # 64,000 bytes of UTF-8: just within the 64 KiB limit
        long = await bob.send_text("alice", body)
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == long.id)
        assert got.message.sealed and got.message.body == body
        assert alice.rejected_count == 0


async def test_a_message_waits_for_keys_that_come_after_it(
    broker: Mosquitto, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sealed message from a device whose keys have not come yet is put aside,
    unacknowledged, and opened as soon as they come, not when the wait runs out."""
    monkeypatch.setattr(inbound, "KEY_WAIT_S", 60.0)
    async with running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice):
        bob = DeviceIdentity.generate()
        text = Text.new("bob", "alice", "sealed before my keys were out")
        box = seal(
            encode_envelope(text),
            Binding(text.id, "sealed", "bob", "alice"),
            bob,
            "b0b0",
            [alice.encryption.public],
        )
        head = {"v": 3, "id": text.id, "type": "sealed", "from": "bob", "to": "alice",
                "ts": "2026-12-07T00:00:00.000Z"}  # fmt: skip
        raw = await RawClient(broker.port, "bob", None).connect()
        try:
            await raw.publish(
                inbox_topic(namespace, "alice", "bob"),
                json.dumps(head | {"sealed": json.loads(box)}).encode(),
            )
            await raw.publish(  # then bob's keys, as a device publishes them
                keys_topic(namespace, "bob", "b0b0"), bob.record("bob", "b0b0", datetime.now(UTC))
            )
        finally:
            raw.close()
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == text.id)
        assert got.message.sealed and got.message.body == "sealed before my keys were out"
        assert alice.rejected_count == 0


async def test_a_friend_request_to_someone_without_keys_goes_after_a_grace(
    broker: Mosquitto, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request waits a moment for the peer's keys (so it goes sealed when they come);
    a peer that has none (an older mqchat) still gets it, in plain text, once the
    grace is over, with nothing else happening meanwhile to wake the outbox."""
    from mqchat.chat import introductions
    from mqchat.core.events import ContactsChanged
    from tests.support.chat_session import connected_service, settings_for

    monkeypatch.setattr(introductions, "KEY_GRACE_S", 0.5)
    old = settings_for(broker, "bob", namespace, tmp_path / "bob", encryption=False)
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, _on_alice),
        connected_service(old) as (_bob, on_bob, _up),
    ):
        await alice.add_contact("bob")
        asked = await on_bob.wait_for(ContactsChanged, lambda e: e.user == "alice")
        assert asked.contact is not None and not alice.trust("bob").encrypted
