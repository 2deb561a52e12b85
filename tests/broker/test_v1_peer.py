"""mqchat (protocol v2) and a client of protocol v1 (tests/support/v1_peer.py, written
from the v1 text alone) chat 1:1 both ways, with presence, on a real mosquitto; the
v2 additions (device records, copies to one's own inbox) never reach the v1 peer."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived, ContactsChanged, MessageStateChanged, PresenceChanged
from mqchat.core.model import ContactStatus, DeliveryState
from tests.support.chat_session import running
from tests.support.mosquitto import Mosquitto
from tests.support.v1_peer import v1_peer

pytestmark = pytest.mark.broker


async def test_a_v1_client_and_mqchat_chat_both_ways_with_presence(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "laptop") as (alice, on_alice),
        running(broker, "alice", namespace, tmp_path / "server") as (_server, _),
        v1_peer(broker.port, "carl", namespace) as carl,
    ):
        # carl (v1) asks; alice (v2, two devices) accepts.
        await carl.befriend("alice")
        await on_alice.wait_for(ContactsChanged, lambda e: e.user == "carl")
        assert (await alice.add_contact("carl")).status is ContactStatus.FRIEND
        # Presence both ways.
        seen = await on_alice.wait_for(
            PresenceChanged, lambda e: e.presence.user == "carl" and e.presence.online
        )
        assert seen.presence.online
        await carl.wait(lambda: carl.presence.get("alice", {}).get("state") == "online")

        # v1 → v2: stored, and carl gets his delivered receipt.
        sent = await carl.send("text", "alice", body="hello from version one")
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == sent["id"])
        assert got.message.body == "hello from version one"
        await carl.wait(lambda: any(sent["id"] in r["ids"] for r in carl.receipts))

        # v2 → v1: carl reads a text exactly as v1 says, and alice sees it delivered.
        mine = await alice.send_text("carl", "hello from version two")
        text = await carl.wait(lambda: next((t for t in carl.texts if t["id"] == mine.id), None))
        assert (text["body"], text["from"], text["to"]) == (
            "hello from version two",
            "alice",
            "carl",
        )
        await on_alice.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == mine.id and e.state is DeliveryState.DELIVERED,
        )
        # Nothing of v2 reached carl's inbox as an envelope he had to skip.
        assert carl.ignored == []
