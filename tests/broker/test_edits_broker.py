"""Editing and deleting one's own messages (protocol v2) against a real mosquitto:
bob sees alice's edit and delete; mallory, a valid user publishing on her own
topic with ``mosquitto_pub``, can neither edit nor delete alice's message, and each
try is rejected and counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mqchat.chat.backend import SendError
from mqchat.chat.service import ChatService
from mqchat.core.envelope import Delete, Edit, Text, encode_envelope
from mqchat.core.events import ChatReceived, MessageChanged, Rejected
from mqchat.core.model import ChatMessage
from tests.support.chat_session import befriend, running, settings_for
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker


async def mosquitto_pub(broker: Mosquitto, topic: str, payload: bytes) -> None:
    """Publish ``payload`` at QoS 1 as any client on the network could; returns once
    the broker acknowledged it."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", topic]
    proc = await asyncio.create_subprocess_exec(
        *args, "-s", stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(payload), 10)
    assert proc.returncode == 0, err.decode(errors="replace")


async def stored(service: ChatService, message_id: str) -> ChatMessage | None:
    return await (await service.store()).get_message(message_id)


async def received(events: Recorder, sent: ChatMessage) -> ChatMessage:
    got = await events.wait_for(ChatReceived, lambda e: e.message.id == sent.id)
    return got.message


async def changed(events: Recorder, message_id: str, mark: int) -> ChatMessage:
    got = await events.wait_for(MessageChanged, lambda e: e.message.id == message_id, since=mark)
    return got.message


async def test_bob_sees_alices_edit_and_delete(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await befriend(alice, a_events, bob, b_events)
        typo = await alice.send_text("bob", "see you at noom")
        oops = await alice.send_text("bob", "my password is hunter2")
        await received(b_events, typo)
        await received(b_events, oops)

        mark = len(b_events.events)
        mine = await alice.edit_text("bob", typo.id, "see you at noon")
        assert (mine.body, mine.edited is not None) == ("see you at noon", True)
        theirs = await changed(b_events, typo.id, mark)
        assert (theirs.body, theirs.edited, theirs.deleted) == (
            "see you at noon",
            mine.edited,
            False,
        )
        assert await stored(bob, typo.id) == theirs

        mark = len(b_events.events)
        gone = await alice.delete_text("bob", oops.id)
        assert (gone.body, gone.deleted) == ("", True)
        theirs = await changed(b_events, oops.id, mark)
        assert (theirs.body, theirs.deleted) == ("", True)
        assert await bob.search("hunter2") == []
        assert await alice.search("hunter2") == []
        assert [m.body for m in await bob.history("alice")] == ["see you at noon", ""]

        # Nothing more can be done to a deleted message, and only by its sender.
        with pytest.raises(SendError, match="deleted"):
            await alice.edit_text("bob", oops.id, "back")
        with pytest.raises(SendError, match="only alice"):
            await bob.edit_text("alice", typo.id, "bob was here")
        with pytest.raises(SendError, match="empty"):
            await alice.edit_text("bob", typo.id, "   ")
        assert bob.rejected_count == 0


async def test_mallory_cannot_edit_or_delete_alices_message(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with (
        running(broker, "alice", namespace, tmp_path) as (alice, a_events),
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        await befriend(alice, a_events, bob, b_events)
        sent = await alice.send_text("bob", "meet at the station at 5")
        original = await received(b_events, sent)
        inbox = f"{namespace}/u/bob/inbox/mallory"
        # mallory on her own topic, so the sender check lets her through: the target
        # is alice's, so the change is refused and counted, never applied.
        edit = Edit.new("mallory", "bob", sent.id, "meet at the docks at 5")
        await mosquitto_pub(broker, inbox, encode_envelope(edit))
        first = await b_events.wait_for(Rejected)
        assert first.total == 1 and "'alice'" in first.reason and "'mallory'" in first.reason
        await mosquitto_pub(broker, inbox, encode_envelope(Delete.new("mallory", "bob", sent.id)))
        await b_events.wait_for(Rejected, lambda e: e.total == 2)
        # mallory's own text, after her changes on the same topic: once it is stored,
        # they were all handled.
        text = Text.new("mallory", "bob", "hi bob")
        await mosquitto_pub(broker, inbox, encode_envelope(text))
        await b_events.wait_for(ChatReceived, lambda e: e.message.id == text.id)
        assert bob.rejected_count == 2
        assert await stored(bob, sent.id) == original
        assert b_events.of(MessageChanged) == []
        # and alice's own change still applies after all that
        await alice.edit_text("bob", sent.id, "meet at the station at 6")
        theirs = await changed(b_events, sent.id, 0)
        assert theirs.body == "meet at the station at 6"


async def test_a_change_made_offline_goes_out_after_a_restart(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        async with running(broker, "alice", namespace, tmp_path) as (alice, a_events):
            await befriend(alice, a_events, bob, b_events)
            sent = await alice.send_text("bob", "the code is 1234")
            await received(b_events, sent)
        # alice, not connected, deletes it, and quits before any connection
        offline = ChatService(settings_for(broker, "alice", namespace, tmp_path))
        gone = await offline.delete_text("bob", sent.id)
        assert gone.deleted
        await offline.stop()
        before = await stored(bob, sent.id)
        assert before is not None and before.body == "the code is 1234"
        mark = len(b_events.events)
        async with running(broker, "alice", namespace, tmp_path):
            theirs = await changed(b_events, sent.id, mark)
            assert (theirs.body, theirs.deleted) == ("", True)
