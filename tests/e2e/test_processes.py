"""Whole processes: the Will of a SIGKILLed client, and the headless commands as a
script would call them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.envelope import Text
from mqchat.core.events import PresenceChanged
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore
from tests.support.chat_session import running
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


async def test_sigkill_publishes_the_will(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with running(broker, "bob", namespace, tmp_path) as (bob, b_events):
        await bob.add_contact("alice")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.peer_process",
            broker.url,
            "alice",
            namespace,
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line.strip() == b"connected"
            await b_events.wait_for(
                PresenceChanged, lambda e: e.presence.user == "alice" and e.presence.online
            )
            mark = len(b_events.events)
            killed_at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        gone = await b_events.wait_for(
            PresenceChanged,
            lambda e: e.presence.user == "alice" and not e.presence.online,
            since=mark,
        )
        assert time.monotonic() - killed_at < 3
        assert gone.presence.lost and gone.presence.since is not None
    async with aiomqtt.Client("127.0.0.1", broker.port) as late:
        await late.subscribe(f"{namespace}/u/alice/presence", qos=1)
        msg = await asyncio.wait_for(anext(aiter(late.messages)), 5)
        assert msg.retain and isinstance(msg.payload, bytes)
        assert json.loads(msg.payload)["state"] == "offline"
        assert json.loads(msg.payload)["lost"] is True


def test_send_then_history_from_both_sides(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    # bob is not running: the message is sent (PUBACK) but bob only has it once online;
    # the sender's history has it right away.
    sent = mqchat(
        "send",
        "bob",
        "hello from a script",
        "--broker",
        broker.url,
        "--user",
        "alice",
        data=tmp_path,
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == ""
    out = mqchat(
        "history", "bob", "--broker", broker.url, "--user", "alice", "--json", data=tmp_path
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["from"], row["to"], row["body"], row["state"]) == (
        "alice",
        "bob",
        "hello from a script",
        "sent",
    )
    assert {"id", "ts"} <= row.keys()
    text = mqchat("history", "bob", "--broker", broker.url, "--user", "alice", data=tmp_path)
    assert "alice: hello from a script [sent]" in text.stdout


@pytest.mark.parametrize("name", ["a/b", "a+b", "a#", "a b", "", ".", ".."])
def test_bad_user_names_are_refused_before_connecting(name: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens: a connection attempt would fail differently
    result = mqchat(
        "send", "bob", "x", "--broker", f"mqtt://127.0.0.1:{port}", "--user", name, data=tmp_path
    )
    assert result.returncode == 2
    assert "user name" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("peer", ["b/ob", "#", "bob bob", ".", ".."])
def test_bad_peer_names_are_refused(peer: str, tmp_path: Path) -> None:
    result = mqchat("send", peer, "x", "--user", "alice", data=tmp_path)
    assert result.returncode == 2 and "peer name" in result.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://localhost", "unsupported scheme"),
        ("mqtt://", "no host"),
        ("mqtt://h:70000", "out of range"),
    ],
)
def test_bad_broker_urls_are_refused(url: str, says: str, tmp_path: Path) -> None:
    result = mqchat("send", "bob", "x", "--broker", url, "--user", "alice", data=tmp_path)
    assert result.returncode == 2 and says in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_fails_fast_with_a_reason(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    result = mqchat(
        "send", "bob", "x", "--broker", f"mqtt://127.0.0.1:{port}", "--user", "alice", data=tmp_path
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert "connection refused" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def incoming(env: Text) -> ChatMessage:
    return ChatMessage(
        id=env.id, peer=env.sender, direction=Direction.IN, sender=env.sender,
        recipient=env.recipient, ts=env.ts, body=env.body, state=DeliveryState.RECEIVED,
    )  # fmt: skip


def test_history_into_a_pipe_that_closes_early_ends_quietly(tmp_path: Path) -> None:
    # `mqchat history … | head -1` used to end in a BrokenPipeError traceback.
    settings = Settings(
        broker=parse_broker_url("mqtt://127.0.0.1:1883"), user="alice", data_dir=tmp_path
    )

    async def fill() -> None:
        async with await ChatStore.open(settings.database, within=tmp_path) as store:
            texts = [Text.new("bob", "alice", f"line {n} " + "x" * 100) for n in range(5000)]
            await store.add_messages([incoming(env) for env in texts])

    asyncio.run(fill())
    proc = subprocess.Popen(
        [sys.executable, "-m", "mqchat", "history", "bob", "--user", "alice",
         "--broker", "mqtt://127.0.0.1:1883", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 141  # as a shell reports a program ended by SIGPIPE
    assert b"bob: line 0" in first
    assert err == ""


def test_history_without_a_database_says_so(tmp_path: Path) -> None:
    result = mqchat("history", "bob", "--user", "nobody", data=tmp_path)
    assert result.returncode == 1 and "no history for nobody" in result.stderr


def test_version_and_help() -> None:
    from mqchat import __version__

    version = subprocess.run(
        [sys.executable, "-m", "mqchat", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert version.stdout.strip() == f"mqchat {__version__}"
    helptext = subprocess.run(
        [sys.executable, "-m", "mqchat", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    for command in ("chat", "send", "history"):
        assert command in helptext.stdout


def test_password_from_the_environment(tmp_path: Path) -> None:
    server = Mosquitto(tmp_path / "broker", users={"alice": "right-horse"}).start()
    try:
        args = ["send", "bob", "x", "--broker", server.url, "--user", "alice"]
        wrong = mqchat(*args, data=tmp_path, env={"MQCHAT_PASSWORD": "wrong"})
        assert wrong.returncode == 1
        assert "refused the login" in wrong.stderr and "password" in wrong.stderr
        anonymous = mqchat(*args, data=tmp_path)
        assert anonymous.returncode == 1 and "refused the login" in anonymous.stderr
        right = mqchat(*args, data=tmp_path, env={"MQCHAT_PASSWORD": "right-horse"})
        assert right.returncode == 0, right.stderr
    finally:
        server.stop()
    for path in tmp_path.rglob("*"):  # nothing mqchat wrote holds the password
        if path.is_file() and "broker" not in path.parts:
            assert b"right-horse" not in path.read_bytes(), path
