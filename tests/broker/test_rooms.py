"""Rooms on a real mosquitto (protocol v2, docs/protocol.md#rooms): alice, bob and
carol in a room; messages reach the other two in order per sender, also after one
of them was away; "read by 2 of 2"; after leaving or being removed nothing more
reaches a member."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from mqchat.chat.service import ChatService
from mqchat.core.envelope import encode_envelope
from mqchat.core.events import ChatReceived, MessageChanged, MessageStateChanged, RoomChanged
from mqchat.core.ids import new_message_id
from mqchat.core.model import DeliveryState
from mqchat.core.room_envelopes import RoomText
from tests.support.chat_session import running
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker


def bodies(events: Recorder, room_key: str, since: int = 0) -> list[str]:
    return [
        e.message.body
        for e in events.events[since:]
        if isinstance(e, ChatReceived) and e.message.peer == room_key
    ]


async def read_by_becomes(
    sender: ChatService, events: Recorder, mid: str, want: tuple[int, int]
) -> None:
    """Until ``sender`` says ``mid`` is read by ``want``; each change is an event."""
    seen = len(events.events)
    while (await sender.read_by([mid]))[mid] != want:
        await events.wait_for(MessageStateChanged, lambda e: e.message_id == mid, since=seen)
        seen = len(events.events)


async def joined(events: Recorder, name: str) -> str:
    got = await events.wait_for(RoomChanged, lambda e: e.room.name == name and e.room.joined)
    return got.room.key


async def test_a_room_of_three(broker: Mosquitto, namespace: str, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        alice, on_alice = await stack.enter_async_context(
            running(broker, "alice", namespace, tmp_path / "alice")
        )
        bob, on_bob = await stack.enter_async_context(
            running(broker, "bob", namespace, tmp_path / "bob")
        )
        carol_stack = AsyncExitStack()
        carol, on_carol = await carol_stack.enter_async_context(
            running(broker, "carol", namespace, tmp_path / "carol")
        )
        room = await alice.create_room("trip", ["bob", "carol"])
        assert (room.members, room.admins) == (("alice", "bob", "carol"), ("alice",))
        key = await joined(on_bob, "trip")
        assert await joined(on_carol, "trip") == key == room.key

        # Everyone's messages reach the other two.
        for who, text in [(alice, "a1"), (bob, "b1"), (carol, "c1")]:
            await who.send_room_text("trip", text)
        for events, others in [(on_alice, {"b1", "c1"}), (on_bob, {"a1", "c1"}),
                               (on_carol, {"a1", "b1"})]:  # fmt: skip
            for text in others:
                await events.wait_for(ChatReceived, lambda e, t=text: e.message.body == t)

        # carol is away; what alice and bob send meanwhile waits for her, in order.
        await carol_stack.aclose()
        for i in range(3):
            await alice.send_room_text("trip", f"a-away-{i}")
            await bob.send_room_text("trip", f"b-away-{i}")
        await on_bob.wait_for(ChatReceived, lambda e: e.message.body == "a-away-2")
        async with running(broker, "carol", namespace, tmp_path / "carol") as (carol, back):
            await back.wait_for(ChatReceived, lambda e: e.message.body == "a-away-2")
            await back.wait_for(ChatReceived, lambda e: e.message.body == "b-away-2")
            got = bodies(back, key)
            assert [b for b in got if b.startswith("a-")] == [f"a-away-{i}" for i in range(3)]
            assert [b for b in got if b.startswith("b-")] == [f"b-away-{i}" for i in range(3)]

            # Read by both: alice's message is read, "read by 2 of 2".
            mine = await alice.send_room_text("trip", "read me")
            for events in (on_bob, back):
                await events.wait_for(ChatReceived, lambda e: e.message.id == mine.id)
            await bob.mark_read(key)
            # One of two read it: alice hears so, though the message is not read yet.
            await read_by_becomes(alice, on_alice, mine.id, (1, 2))
            await carol.mark_read(key)
            await on_alice.wait_for(
                MessageStateChanged,
                lambda e: e.message_id == mine.id and e.state is DeliveryState.READ,
            )
            assert (await alice.read_by([mine.id]))[mine.id] == (2, 2)

            # bob leaves: nothing more reaches him.
            await bob.leave_room("trip")
            await on_alice.wait_for(RoomChanged, lambda e: "bob" not in e.room.members)
            after = await alice.send_room_text("trip", "bob has gone")
            await back.wait_for(ChatReceived, lambda e: e.message.id == after.id)
            # carol is removed: she learns it, and nothing more reaches her.
            await alice.room_remove("trip", ["carol"])
            await back.wait_for(RoomChanged, lambda e: not e.room.joined)
            last = await alice.send_room_text("trip", "only me now")
            sentinel = await alice.send_text("bob", "sentinel")  # after it, on the wire
            await on_bob.wait_for(ChatReceived, lambda e: e.message.id == sentinel.id)
            assert "bob has gone" not in bodies(on_bob, key)
            assert "only me now" not in bodies(on_bob, key)
            assert "only me now" not in bodies(back, key)
            assert last.peer == key


async def test_a_room_message_edited_and_deleted_everywhere(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, _),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
        running(broker, "carol", namespace, tmp_path / "carol") as (carol, on_carol),
    ):
        room = await alice.create_room("edits", ["bob", "carol"])
        for events in (on_bob, on_carol):
            await events.wait_for(RoomChanged, lambda e: e.room.id == room.id)
        typo = await alice.send_room_text(room.id, "see you at 8")
        gone = await alice.send_room_text(room.id, "oops, wrong room")
        for events in (on_bob, on_carol):
            await events.wait_for(ChatReceived, lambda e: e.message.id == gone.id)
        await alice.edit_text(room.key, typo.id, "see you at 9")
        await alice.delete_text(room.key, gone.id)
        for member, events in ((bob, on_bob), (carol, on_carol)):
            edited = await events.wait_for(
                MessageChanged, lambda e: e.message.id == typo.id and e.message.edited is not None
            )
            assert edited.message.body == "see you at 9"
            await events.wait_for(
                MessageChanged, lambda e: e.message.id == gone.id and e.message.deleted
            )
            kept = await (await member.store()).get_message(gone.id)
            assert kept is not None and kept.deleted and kept.body == ""


async def test_a_member_cannot_pin_a_message_at_the_end_of_the_room(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    far = datetime(9999, 12, 31, tzinfo=UTC)
    async with (
        running(broker, "alice", namespace, tmp_path / "alice") as (alice, on_alice),
        aiomqtt.Client("127.0.0.1", broker.port) as bob,
    ):
        room = await alice.create_room("clocks", ["bob"])
        pinned = RoomText(id=new_message_id(), sender="bob", recipient="alice", ts=far,
                          room=room.id, body="always last")  # fmt: skip
        await bob.publish(f"{namespace}/u/alice/inbox/bob", encode_envelope(pinned), qos=1)
        got = await on_alice.wait_for(ChatReceived, lambda e: e.message.id == pinned.id)
        assert got.message.claimed_ts == far and got.message.ts.year < 9999
