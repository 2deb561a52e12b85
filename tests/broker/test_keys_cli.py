"""`mqchat keys` and `mqchat keys verify` against a real mosquitto (protocol v3,
docs/protocol.md#encryption): the safety number is the same on both sides, marking
a peer verified is seen by the chat, a peer's new keys change the number and say
so, and the command never waits for an answer when stdin is not a terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mqchat.core.events import ChatReceived, TrustChanged
from tests.support.chat_session import befriend, running
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.broker


async def keys_cli(
    broker_url: str, namespace: str, data: Path, *args: str, user: str
) -> tuple[int, str, str]:
    """``mqchat keys ARGS`` as a script runs it: stdin is not a terminal."""
    done = await asyncio.to_thread(
        mqchat,
        "keys",
        *args,
        "--user",
        user,
        "--broker",
        broker_url,
        data=data,
        env={"MQCHAT_NAMESPACE": namespace},
    )
    return done.returncode, done.stdout, done.stderr


def number_of(out: str) -> str:
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Safety number")))
    groups = " ".join(lines[start + 1 : start + 4]).split()
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups), out
    return " ".join(groups)


async def test_both_sides_see_the_same_safety_number_and_verify(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    alice_data, bob_data = tmp_path / "alice", tmp_path / "bob"
    async with (
        running(broker, "alice", namespace, alice_data) as (alice, on_alice),
        running(broker, "bob", namespace, bob_data) as (bob, on_bob),
    ):
        await befriend(alice, on_alice, bob, on_bob)
        hello = await bob.send_text("alice", "hello")
        await on_alice.wait_for(ChatReceived, lambda e: e.message.id == hello.id)
        in_the_chat = alice.safety_number("bob")

    code, out, err = await keys_cli(broker.url, namespace, alice_data, user="alice")
    assert code == 0, err
    assert out.splitlines()[0].startswith("alice, device ")
    assert "signing key (Ed25519)" in out

    code, seen_by_alice, err = await keys_cli(
        broker.url, namespace, alice_data, "verify", "bob", user="alice"
    )
    assert code == 0, err
    code, seen_by_bob, err = await keys_cli(
        broker.url, namespace, bob_data, "verify", "alice", user="bob"
    )
    assert code == 0, err
    assert number_of(seen_by_alice) == number_of(seen_by_bob) == in_the_chat
    # stdin is not a terminal: nothing was asked, nothing marked
    assert "not marked" in seen_by_alice and "✓" not in seen_by_alice

    code, out, err = await keys_cli(
        broker.url, namespace, alice_data, "verify", "bob", "--mark", user="alice"
    )
    assert code == 0 and "✓ marked bob verified" in out, (out, err)
    async with running(broker, "alice", namespace, alice_data) as (alice, _on_alice):
        assert alice.trust("bob").verified
    code, out, err = await keys_cli(
        broker.url, namespace, alice_data, "verify", "bob", "--json", user="alice"
    )
    assert code == 0, err
    assert json.loads(out) | {"safety_number": "-", "devices": []} == {
        "peer": "bob", "safety_number": "-", "devices": [], "verified": True, "changed": False
    }  # fmt: skip

    # bob starts over on a new data dir (new keys): the number changes, and says so.
    async with running(broker, "bob", namespace, tmp_path / "bob-new") as (_bob, _on):
        pass
    code, out, err = await keys_cli(
        broker.url, namespace, alice_data, "verify", "bob", user="alice"
    )
    assert code == 0, err
    assert number_of(out) != number_of(seen_by_alice)
    assert "⚠ these are not the keys this device trusts for bob" in out
    async with running(broker, "alice", namespace, alice_data) as (alice, on_alice):
        changed = await on_alice.wait_for(TrustChanged, lambda e: e.trust.user == "bob")
        assert changed.trust.changed is not None and not changed.trust.verified


async def test_keys_says_what_is_wrong_in_one_line(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    data = tmp_path / "alice"
    for args, code_wanted, says in [
        (("verify",), 2, "name the peer"),
        (("verify", "alice"), 2, "not yourself"),
        (("verify", "bad name!"), 2, "peer name"),
        (("verify", "zed"), 1, "zed has published no keys"),
    ]:
        code, out, err = await keys_cli(broker.url, namespace, data, *args, user="alice")
        assert code == code_wanted, (args, out, err)
        assert err.startswith("mqchat: ") and err.count("\n") == 1 and says in err, (args, err)
    gone = f"mqtt://127.0.0.1:{free_port()}"
    code, out, err = await keys_cli(gone, namespace, data, "verify", "bob", user="alice")
    assert code == 1 and err.startswith("mqchat: ") and err.count("\n") == 1, err


async def test_a_damaged_key_file_is_refused_and_never_replaced(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    """Peers know a device's keys: a damaged key file stops the chat with one line
    naming it, and is left as it was (never silently replaced by new keys)."""
    from mqchat.core.events import ConnectionChanged
    from mqchat.core.model import ConnectionState
    from tests.support.chat_session import settings_for

    data = tmp_path / "alice"
    async with running(broker, "alice", namespace, data) as (_alice, _events):
        pass
    settings = settings_for(broker, "alice", namespace, data)
    keys = settings.database.with_suffix(".keys")
    keys.write_text('{"v": 1, "x25519": "not base64!"}\n')
    from mqchat.chat.service import ChatService
    from tests.support.recorder import Recorder

    service, events = ChatService(settings), Recorder()
    service.set_listener(events)
    await asyncio.wait_for(service.run(), 10)  # it ends: nothing to retry
    failed = await events.wait_for(ConnectionChanged, lambda e: e.state is ConnectionState.FAILED)
    assert str(keys) in failed.detail and "damaged" in failed.detail
    assert "\n" not in failed.detail
    assert keys.read_text() == '{"v": 1, "x25519": "not base64!"}\n'
    code, out, err = await keys_cli(broker.url, namespace, data, user="alice")
    assert (code, out) == (1, "") and err.startswith("mqchat: ") and err.count("\n") == 1
    assert "damaged" in err
