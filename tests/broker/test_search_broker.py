"""Search through the real backend, on a real mosquitto: what arrives is found at
once, on both sides, in every conversation or in one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived
from tests.support.chat_session import befriend, running
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def test_a_message_is_found_on_both_sides_as_soon_as_it_is_stored(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await befriend(alice, a_events, bob, b_events)
        await alice.add_contact("carol")
        await alice.send_text("carol", "Pizza with carol?")
        sent = await alice.send_text("bob", 'Pizza on Friday? NEAR(the "station"')
        got = await b_events.wait_for(ChatReceived, lambda e: e.message.id == sent.id)
        assert await bob.search("pizz fri") == [got.message]
        assert await bob.search('"station') == [got.message]
        assert await bob.search("carol") == []
        assert [m.id for m in await alice.search("FRIDAY", peer="bob")] == [sent.id]
        everywhere = await alice.search("pizza")  # (both may share a millisecond)
        assert {m.body for m in everywhere} == {sent.body, "Pizza with carol?"}
        assert [m.body for m in await alice.search("pizza", peer="carol")] == ["Pizza with carol?"]
