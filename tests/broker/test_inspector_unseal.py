"""The inspector's decrypted view on a real mosquitto: what the broker carried to
alice from bob is ciphertext, and alice's chat backend (``ChatService.unseal``, the
callable the app lends the inspector) opens exactly those bytes to bob's plain inner
envelope, changing nothing; bytes it must not trust stay shut."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived
from mqchat.core.topics import inbox_topic
from tests.support.chat_session import befriend, running
from tests.support.deployed_broker import RawClient
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def carried(spy: RawClient, topic: str, message_id: str) -> bytes:
    """The payload the spy got on ``topic`` for ``message_id`` (waits for it)."""
    async with asyncio.timeout(10):
        while True:
            message = await spy.messages.get()
            if (
                message.topic == topic
                and message.payload
                and json.loads(message.payload).get("id") == message_id
            ):
                return bytes(message.payload)


async def test_alice_opens_what_the_broker_carried_to_her_from_bob(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    spy = await RawClient(broker.port, "spy", None).connect()
    await spy.subscribe(f"{namespace}/#")
    try:
        async with (
            running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
            running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
        ):
            await befriend(alice, on_alice, bob, on_bob)
            sent = await bob.send_text("alice", "the [bold]eagle[/] lands at noon")
            await on_alice.wait_for(ChatReceived, lambda e: e.message.id == sent.id)
            topic = inbox_topic(namespace, "alice", "bob")
            wire = await carried(spy, topic, sent.id)
            assert json.loads(wire)["type"] == "sealed"
            assert b"eagle" not in wire
            before = await alice.history("bob")

            inner = alice.unseal(topic, wire)

            assert inner is not None
            envelope = json.loads(inner)
            assert envelope["type"] == "text"
            assert envelope["id"] == sent.id
            assert (envelope["from"], envelope["to"]) == ("bob", "alice")
            assert envelope["body"] == "the [bold]eagle[/] lands at noon"
            assert await alice.history("bob") == before  # it changed nothing

            # Bytes it must not trust stay shut: another sender's topic, a flipped bit.
            assert alice.unseal(inbox_topic(namespace, "alice", "carol"), wire) is None
            outer = json.loads(wire)
            ct = bytearray(base64.b64decode(outer["sealed"]["ct"]))
            ct[-1] ^= 1
            outer["sealed"]["ct"] = base64.b64encode(bytes(ct)).decode()
            assert alice.unseal(topic, json.dumps(outer).encode()) is None
            assert alice.unseal(topic, b"not json") is None
    finally:
        spy.close()
