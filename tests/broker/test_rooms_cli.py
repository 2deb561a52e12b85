"""Rooms for scripts against a real mosquitto: ``mqchat room create``, ``mqchat send
--room``, ``mqchat history --room --json`` (with "read by"), ``room remove`` and
``room leave``; bad input is one line and exit 2, an unknown room one line and exit 1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived, RoomChanged
from tests.support.chat_session import running
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.broker


async def test_a_room_made_and_used_from_scripts(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    alice = ("--user", "alice", "--broker", broker.url)
    env = {"MQCHAT_NAMESPACE": namespace}
    data = tmp_path / "alice"

    def cli(*args: str):
        return asyncio.to_thread(mqchat, *args, *alice, data=data, env=env)

    async with (
        running(broker, "bob", namespace, tmp_path / "bob") as (bob, on_bob),
        running(broker, "carol", namespace, tmp_path / "carol") as (carol, on_carol),
    ):
        made = await cli("room", "create", "trip", "--members", "bob,carol")
        assert made.returncode == 0, made.stderr
        assert "created 'trip'" in made.stderr and "alice, bob, carol" in made.stderr
        await on_bob.wait_for(RoomChanged, lambda e: e.room.name == "trip")
        await on_carol.wait_for(RoomChanged, lambda e: e.room.name == "trip")

        sent = await cli("send", "--room", "trip", "hello, room")
        assert sent.returncode == 0, sent.stderr
        for events in (on_bob, on_carol):
            got = await events.wait_for(ChatReceived, lambda e: e.message.body == "hello, room")
            assert got.message.sender == "alice"
            await (bob if events is on_bob else carol).mark_read(got.message.peer)

        # The receipts reach alice's history only through her chat; a script reads
        # what is stored: sent, and read by 0 of 2 so far.
        shown = await cli("history", "--room", "trip", "--json")
        assert shown.returncode == 0, shown.stderr
        [row] = [json.loads(line) for line in shown.stdout.splitlines()]
        assert (row["body"], row["from"], row["state"]) == ("hello, room", "alice", "sent")
        assert (row["read_by"], row["members"]) == (0, 2)

        removed = await cli("room", "remove", "trip", "carol")
        assert removed.returncode == 0, removed.stderr
        await on_carol.wait_for(RoomChanged, lambda e: not e.room.joined)
        listed = await cli("room", "list", "--json")
        [room] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert room["members"] == ["alice", "bob"] and room["joined"] is True

        left = await cli("room", "leave", "trip")
        assert left.returncode == 0, left.stderr
        await on_bob.wait_for(RoomChanged, lambda e: "alice" not in e.room.members)

        unknown = await cli("send", "--room", "nowhere", "hi")
        assert unknown.returncode == 1
        assert unknown.stderr.strip() == "mqchat: not sent: no room named 'nowhere'"
        bad = await cli("room", "create", "x", "--members", "bob/evil")
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


async def test_room_commands_say_what_is_wrong_in_one_line(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    env = {"MQCHAT_NAMESPACE": namespace}
    data = tmp_path / "alice"

    def cli(*args: str, url: str = broker.url):
        return asyncio.to_thread(
            mqchat, *args, "--user", "alice", "--broker", url, data=data, env=env
        )

    listed = await cli("room", "list")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "")
    assert not data.exists()  # asking made no history

    gone = f"mqtt://127.0.0.1:{free_port()}"
    down = await cli("room", "create", "trip", "--members", "bob", url=gone)
    assert down.returncode == 1 and len(down.stderr.strip().splitlines()) == 1
    assert down.stderr.startswith("mqchat: room create: ") and "Traceback" not in down.stderr

    for args, says in [
        (("room", "create", "   ", "--members", "bob"), "a room needs a name"),
        (("room", "create", "x" * 65, "--members", "bob"), "at most 64 characters"),
        (("history", "--room", "nowhere"), "no room named 'nowhere'"),
        (("room", "leave", "nowhere"), "no room named 'nowhere'"),
    ]:
        done = await cli(*args)
        assert done.returncode == 1, (args, done.stderr)
        [line] = done.stderr.strip().splitlines()
        assert says in line and "Traceback" not in done.stderr
    rooms = await cli("room", "list", "--json")
    assert rooms.stdout == ""  # nothing half-made by the refusals
    usage = await cli("room", "add", "trip")
    assert usage.returncode == 2 and "which users?" in usage.stderr
