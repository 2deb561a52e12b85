"""`mqchat serve` and the broker_run API behind it: the URL printed, a clean stop on
Ctrl+C and SIGTERM, one clear line for a port in use, mosquitto's queue kept across
a restart, and the embedded broker answering MQTT 5 the way a 3.1.1 broker must."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.broker.runner import (
    SERVE_MAX_QUEUED,
    BrokerKind,
    BrokerStartError,
    broker_url,
    check_port_free,
    render_serve_config,
    running_broker,
    start_broker,
)
from tests.support.brokers import mqtt_answers
from tests.support.mosquitto import free_port, require_mosquitto

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["mosquitto", "embedded"]


def serve_args(kind: str, port: int, data: Path) -> list[str]:
    embedded = ["--embedded"] if kind == "embedded" else []
    return [sys.executable, "-m", "mqchat", "serve", "--port", str(port), "--data-dir",
            str(data), *embedded]  # fmt: skip


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}


def needs(kind: str) -> None:
    if kind == "mosquitto":
        require_mosquitto()


@pytest.fixture
def occupied() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


# --- pure ------------------------------------------------------------------------------


def test_the_generated_mosquitto_config(tmp_path: Path) -> None:
    conf = render_serve_config("127.0.0.1", 1883, tmp_path, tmp_path / "log", as_root=False)
    lines = conf.splitlines()
    for wanted in (
        "listener 1883 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {tmp_path}/",
        "set_tcp_nodelay true",
        f"max_queued_messages {SERVE_MAX_QUEUED}",
    ):
        assert wanted in lines
    assert "user root" not in lines
    assert "user root" in render_serve_config("h", 1, tmp_path, tmp_path, as_root=True)


def test_urls_to_connect_to() -> None:
    assert broker_url("127.0.0.1", 1883) == "mqtt://127.0.0.1:1883"
    assert broker_url("0.0.0.0", 1883) == "mqtt://127.0.0.1:1883"  # listening everywhere
    assert broker_url("::1", 1884) == "mqtt://[::1]:1884"
    assert broker_url("::", 1884) == "mqtt://[::1]:1884"


def test_a_port_in_use_is_one_clear_line(occupied: int) -> None:
    with pytest.raises(BrokerStartError, match=f"127.0.0.1:{occupied} is already in use"):
        check_port_free("127.0.0.1", occupied)


# --- the command ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("kind", KINDS)
def test_serve_prints_the_url_and_stops_cleanly(kind: str, sig: int, tmp_path: Path) -> None:
    needs(kind)
    port = free_port()
    proc = subprocess.Popen(
        serve_args(kind, port, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env=env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == f"mqtt://127.0.0.1:{port}\n".encode()  # once ready
        assert mqtt_answers(port)
    finally:
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=20)
    said = err.decode()
    assert proc.returncode == 0, said
    assert f"connect with: mqchat --broker mqtt://127.0.0.1:{port}" in said
    assert said.rstrip().endswith("mqchat: broker stopped")
    assert "Traceback" not in said
    assert not mqtt_answers(port)  # mosquitto went with it


def test_serve_says_why_mosquitto_died_and_exits_1(tmp_path: Path) -> None:
    require_mosquitto()
    proc = subprocess.Popen(
        serve_args("mosquitto", free_port(), tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=ROOT, env=env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the URL: mosquitto is up
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 1  # mosquitto
        os.kill(int(children[0]), signal.SIGKILL)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "mqchat: mosquitto stopped (status -9): killed by SIGKILL" in err.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_serve_on_a_port_in_use_says_so_and_exits_1(
    kind: str, occupied: int, tmp_path: Path
) -> None:
    needs(kind)
    done = subprocess.run(
        serve_args(kind, occupied, tmp_path), capture_output=True, cwd=ROOT, env=env(), timeout=30
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"mqchat: 127.0.0.1:{occupied} is already in use (is another broker running?); "
        "choose another port with --port, or --port 0 for any free one"
    ]


def test_serve_refuses_a_bad_port() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mqchat", "serve", "--port", "http"],
        capture_output=True, cwd=ROOT, env=env(), timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"--port must be a port number from 0 to 65535" in done.stderr


# --- the API ------------------------------------------------------------------------------


def client(port: int, name: str, *, v5: bool = False, keep: bool = False) -> aiomqtt.Client:
    if v5:  # with CONNECT properties, which amqtt alone would choke on
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 60
        return aiomqtt.Client(
            "127.0.0.1", port, identifier=name, protocol=aiomqtt.ProtocolVersion.V5,
            properties=props, timeout=5,
        )  # fmt: skip
    return aiomqtt.Client(
        "127.0.0.1", port, identifier=name, username=name, clean_session=not keep,
        protocol=aiomqtt.ProtocolVersion.V311,
    )  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
async def test_queued_and_retained_messages_survive_a_restart(kind: str, tmp_path: Path) -> None:
    needs(kind)
    embedded = kind == "embedded"
    async with running_broker(port=0, embedded=embedded, data_dir=tmp_path) as broker:
        assert broker.kind is BrokerKind(kind)
        port = broker.port
        async with client(port, "bob", keep=True) as bob:
            await bob.subscribe("serve/inbox", qos=1)
        async with client(port, "alice") as alice:
            await alice.publish("serve/inbox", b"while you were away", qos=1)
            await alice.publish("serve/status", b"kept", qos=1, retain=True)
    async with running_broker(port=port, embedded=embedded, data_dir=tmp_path):
        async with client(port, "bob", keep=True) as bob:
            message = await asyncio.wait_for(anext(aiter(bob.messages)), 10)
            assert message.payload == b"while you were away"
        async with client(port, "carol") as carol:
            await carol.subscribe("serve/status", qos=1)
            message = await asyncio.wait_for(anext(aiter(carol.messages)), 10)
            assert (message.payload, message.retain) == (b"kept", True)


async def test_the_embedded_broker_in_this_loop(tmp_path: Path) -> None:
    broker = await start_broker(port=0, embedded=True, data_dir=tmp_path)
    async with broker:
        assert broker.kind is BrokerKind.EMBEDDED
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        # a 3.1.1 broker must refuse MQTT 5 at once, properties and all
        with pytest.raises(aiomqtt.MqttCodeError, match="Unsupported protocol version"):
            async with client(broker.port, "new", v5=True):
                pass
        async with client(broker.port, "old") as old:
            await old.subscribe("serve/echo", qos=2)
            await old.publish("serve/echo", b"hello", qos=2)
            message = await asyncio.wait_for(anext(aiter(old.messages)), 10)
            assert (message.payload, message.qos) == (b"hello", 2)
    assert not mqtt_answers(broker.port)
