"""What a broker that refuses, a crash and a lost session used to break, on a real
mosquitto: an oversized message no longer blocks those behind it, a crash lets the
Will speak, a lost session sends again what the broker may have lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived, ConnectionChanged, MessageStateChanged
from mqchat.core.model import ConnectionState, DeliveryState
from tests.support.chat_session import connected_service, settings_for
from tests.support.mosquitto import Mosquitto, require_mosquitto

pytestmark = pytest.mark.broker


@pytest.fixture
def small_packets(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto that takes no packet over 2,000 bytes (and says so in MQTT 5)."""
    require_mosquitto()
    server = Mosquitto(tmp_path / "small", extra_config="max_packet_size 2000\n").start()
    yield server
    server.stop()


@pytest.mark.parametrize("version", ["5", "3.1.1"])
async def test_a_message_the_broker_will_not_take_fails_and_the_next_one_goes(
    small_packets: Mosquitto, namespace: str, tmp_path: Path, version: str
) -> None:
    # It used to stay ⏳ for ever, the connection dropped and remade in a loop, and
    # the message typed after it never arrived.
    alice_settings = settings_for(small_packets, "alice", namespace, tmp_path, mqtt_version=version)
    bob_settings = settings_for(small_packets, "bob", namespace, tmp_path, mqtt_version=version)
    async with (
        connected_service(alice_settings) as (alice, a_events, _),
        connected_service(bob_settings) as (bob, b_events, _),
    ):
        await alice.add_contact("bob")
        await bob.add_contact("alice")
        mark = len(a_events.events)
        started = time.monotonic()
        big = await alice.send_text("bob", "x" * 3000)
        small = await alice.send_text("bob", "small-after-2")
        failed = await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == big.id and e.state is DeliveryState.FAILED,
            timeout=5,
        )
        assert time.monotonic() - started < 5
        assert "too large" in failed.reason
        got = await b_events.wait_for(ChatReceived, lambda e: e.message.id == small.id)
        assert got.message.body == "small-after-2"
        assert [e.message.id for e in b_events.of(ChatReceived)] == [small.id]
        retries = [
            e
            for e in a_events.events[mark:]
            if isinstance(e, ConnectionChanged) and e.state is ConnectionState.RETRYING
        ]
        # MQTT 5: the CONNACK told the limit, so it was never sent. A 3.1.1 broker
        # says nothing but closes the connection: the message fails at the third close.
        assert len(retries) == (0 if version == "5" else 3)
        states = {m.id: m.state for m in await alice.history("bob")}
        assert states[big.id] is DeliveryState.FAILED
        assert states[small.id] is not DeliveryState.FAILED
