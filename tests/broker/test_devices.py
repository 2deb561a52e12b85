"""One user on two devices (two data dirs) and a friend, on a real mosquitto
(protocol v2, docs/protocol.md#devices): messages reach both devices, what one
sends or reads shows on the other, and the user is online while any device is."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.chat.service import ChatService
from mqchat.core.events import (
    ChatReceived,
    ContactsChanged,
    DevicesChanged,
    MessageStateChanged,
    PresenceChanged,
    RoomChanged,
)
from mqchat.core.model import ContactStatus, DeliveryState
from tests.support.chat_session import befriend, running
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker


async def second_device_knows_bob(alice: ChatService, events: Recorder) -> None:
    """A new device has no contacts: it asks bob, who (a friend already) accepts."""
    await alice.add_contact("bob")
    await events.wait_for(
        ContactsChanged,
        lambda e: e.user == "bob" and e.contact is not None
        and e.contact.status is ContactStatus.FRIEND,
    )  # fmt: skip


async def both_know_both(first: Recorder, second: Recorder) -> None:
    for events in (first, second):
        await events.wait_for(DevicesChanged, lambda e: sum(d.online for d in e.devices) == 2)


async def test_two_devices_share_a_conversation_and_presence(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "laptop") as (laptop, on_laptop),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(laptop, on_laptop, bob, on_bob)
        async with running(broker, "alice", namespace, tmp_path / "server") as (server, on_server):
            await second_device_knows_bob(server, on_server)
            await both_know_both(on_laptop, on_server)

            hello = await bob.send_text("alice", "hello, both of you")
            for events in (on_laptop, on_server):
                got = await events.wait_for(ChatReceived, lambda e: e.message.id == hello.id)
                assert got.message.body == "hello, both of you" and not got.message.outgoing

            mine = await laptop.send_text("bob", "typed on the laptop")
            copy = await on_server.wait_for(ChatReceived, lambda e: e.message.id == mine.id)
            assert copy.message.outgoing and copy.message.sender == "alice"
            assert copy.message.peer == "bob" and copy.message.body == "typed on the laptop"
            assert [m.body for m in await server.history("bob")][-1] == "typed on the laptop"

            # Read on the server: the laptop's unread count goes to 0.
            assert {s.contact.user: s.unread for s in await laptop.contacts()}["bob"] == 1
            await server.mark_read("bob")
            await on_laptop.wait_for(
                MessageStateChanged,
                lambda e: e.message_id == hello.id and e.state is DeliveryState.READ,
            )
            assert {s.contact.user: s.unread for s in await laptop.contacts()}["bob"] == 0

            # The laptop quits: alice stays online for bob, without a blink.
            mark = len(on_bob.events)
            await laptop.stop()
            sentinel = await server.send_text("bob", "still here on the server")
            await on_bob.wait_for(ChatReceived, lambda e: e.message.id == sentinel.id)
            blinks = [
                e
                for e in on_bob.events[mark:]
                if isinstance(e, PresenceChanged) and e.presence.user == "alice"
                and not e.presence.online
            ]  # fmt: skip
            assert blinks == []
            alice = bob.presence("alice")
            assert alice is not None and alice.online

            # The server's connection dies too (no DISCONNECT): bob sees her offline.
            server.abandon()
            gone = await on_bob.wait_for(
                PresenceChanged,
                lambda e: e.presence.user == "alice" and not e.presence.online,
                since=mark,
                timeout=5,
            )
            assert gone.presence.lost


async def test_both_devices_dying_leave_the_user_offline(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "laptop") as (laptop, on_laptop),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await befriend(laptop, on_laptop, bob, on_bob)
        async with running(broker, "alice", namespace, tmp_path / "server") as (server, on_server):
            await both_know_both(on_laptop, on_server)
            mark = len(on_bob.events)
            laptop.abandon()
            # The server sees the laptop's Will, says online again, and marks the
            # laptop's record lost.
            await on_server.wait_for(
                DevicesChanged,
                lambda e: any(d.lost and not d.online for d in e.devices),
            )
            server_id = await (await server.store()).device_id()
            server.abandon()
            await on_bob.wait_for(
                PresenceChanged,
                lambda e: e.presence.user == "alice" and not e.presence.online
                and e.presence.device == server_id,
                since=mark,
                timeout=5,
            )  # fmt: skip
            final = bob.presence("alice")
            assert final is not None and not final.online


async def test_a_room_made_on_one_device_is_on_the_other(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path / "laptop") as (laptop, on_laptop),
        running(broker, "alice", namespace, tmp_path / "server") as (_server, on_server),
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
    ):
        await both_know_both(on_laptop, on_server)
        room = await laptop.create_room("from the laptop", ["bob"])
        got = await on_server.wait_for(RoomChanged, lambda e: e.room.id == room.id)
        assert got.room.joined and got.room.members == ("alice", "bob")
        await on_bob.wait_for(RoomChanged, lambda e: e.room.id == room.id)
        mine = await laptop.send_room_text(room.id, "typed on the laptop")
        copy = await on_server.wait_for(ChatReceived, lambda e: e.message.id == mine.id)
        assert copy.message.outgoing and copy.message.peer == room.key
        hers = await bob.send_room_text(room.id, "seen on both")
        for events in (on_laptop, on_server):
            await events.wait_for(ChatReceived, lambda e: e.message.id == hers.id)
        await laptop.leave_room(room.id)
        await on_server.wait_for(RoomChanged, lambda e: e.room.id == room.id and not e.room.joined)
