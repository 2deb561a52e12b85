"""End-to-end encryption on a real mosquitto (protocol v3, docs/protocol.md#encryption):
the broker carries only ciphertext, history keeps plain text; what an attacker on
the broker makes of a sealed message (tampered, replayed, re-sealed with another
key, or plain text once encryption began) is refused, counted and shown as a
warning, never as the peer's message; a peer's new keys warn before their first
message under them."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import pytest

from mqchat.chat import inbound, inbound_parts
from mqchat.core.envelope import Text, encode_envelope
from mqchat.core.events import ChatReceived, MessageStateChanged, Notice, Rejected, TrustChanged
from mqchat.core.model import DeliveryState
from mqchat.core.topics import inbox_topic
from mqchat.crypto.identity import DeviceIdentity
from mqchat.crypto.seal import Binding, seal
from tests.support.chat_session import befriend, running
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
            captured = next(
                p for t, p in chat_payloads(spy) if t == topic and json.loads(p)["id"] == genuine.id
            )
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
