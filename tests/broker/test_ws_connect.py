"""MQTT over WebSockets against mosquitto's websockets listeners: the chat over ws://
(default path and a path of its own), ``mqchat send``/``sub`` over ws:// and wss://,
and the two ways a WebSocket port gets mixed up with a plain one, each in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived
from tests.support.chat_session import connected_service
from tests.support.mosquitto import require_mosquitto
from tests.support.recorder import Recorder
from tests.support.tls_broker import TlsBroker, start_tls_broker

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ws_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    require_mosquitto()
    server = start_tls_broker(tmp_path_factory.mktemp("ws"))
    yield server
    server.stop()


def mqchat(*args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    if data is not None:
        env["MQCHAT_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "mqchat", *args],
        capture_output=True, timeout=60, env=env, cwd=ROOT, text=True,
    )  # fmt: skip


@asynccontextmanager
async def chatting(
    url: str, user: str, ns: str, data: Path
) -> AsyncIterator[tuple[ChatService, Recorder]]:
    settings = Settings(
        broker=parse_broker_url(url), user=user, data_dir=data, namespace=ns, keepalive=5
    )
    async with connected_service(settings) as (service, events, _):
        yield service, events


@pytest.mark.parametrize("path", ["", "/chat/ws"], ids=["default-path", "own-path"])
async def test_alice_and_bob_chat_over_ws(
    ws_broker: TlsBroker, namespace: str, tmp_path: Path, path: str
) -> None:
    url = f"ws://127.0.0.1:{ws_broker.ws}{path}"
    async with (
        chatting(url, "alice", namespace, tmp_path) as (alice, a_events),
        chatting(url, "bob", namespace, tmp_path) as (bob, b_events),
    ):
        assert alice.broker_label == f"127.0.0.1:{ws_broker.ws} (WebSocket)"
        await alice.add_contact("bob")
        await alice.send_text("bob", "hi over websockets")
        got = await b_events.wait_for(ChatReceived)
        assert (got.message.body, got.message.sender) == ("hi over websockets", "alice")
        await bob.send_text("alice", "and back")
        back = await a_events.wait_for(ChatReceived)
        assert (back.message.body, back.message.sender) == ("and back", "bob")


def test_send_and_sub_over_ws_and_wss(ws_broker: TlsBroker, namespace: str, tmp_path: Path) -> None:
    b = ws_broker
    ca = ["--cafile", str(b.files.ca)]
    sent = mqchat(
        "send", "bob", "over wss", "--user", "alice", *ca,
        "--broker", f"wss://localhost:{b.wss}/mqtt", data=tmp_path,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    topic = f"{namespace}/ws"
    pub = mqchat("pub", topic, "kept", "-r", "-q", "1", "--broker", f"ws://127.0.0.1:{b.ws}")
    assert pub.returncode == 0, pub.stderr
    sub = mqchat("sub", topic, "-C", "1", *ca, "--broker", f"wss://127.0.0.1:{b.wss}")
    assert (sub.returncode, sub.stdout) == (0, "kept\n"), sub.stderr


def test_mixed_up_ports_say_so_in_one_line(ws_broker: TlsBroker, tmp_path: Path) -> None:
    b = ws_broker
    ws_to_plain = mqchat(
        "send", "bob", "x", "--user", "alice", "--broker", f"ws://127.0.0.1:{b.plain}",
        data=tmp_path,
    )  # fmt: skip
    assert ws_to_plain.returncode == 1
    assert ws_to_plain.stderr.splitlines() == [
        f"mqchat: not sent: the WebSocket handshake with 127.0.0.1:{b.plain} failed: is this a "
        "WebSocket port, and is the path '/mqtt' right? (plain MQTT is mqtt://)"
    ]
    plain_to_ws = mqchat(
        "send", "bob", "x", "--user", "alice", "--broker", f"mqtt://127.0.0.1:{b.ws}",
        data=tmp_path,
    )  # fmt: skip
    assert plain_to_ws.returncode == 1
    assert plain_to_ws.stderr.splitlines() == [
        f"mqchat: not sent: 127.0.0.1:{b.ws} closed the connection before answering: is it a "
        "TLS port (mqtts://) or a WebSocket port (ws://)?"
    ]


def test_a_websocket_link_sends_without_nagle(ws_broker: TlsBroker) -> None:
    """The fast link over ws:// sets TCP_NODELAY on the TCP socket under paho's
    WebSocket wrapper (the ``raw_socket`` shim), so a request is not held back."""
    import socket

    from mqchat.mqtt.link import open_link
    from mqchat.mqtt.shims import raw_socket

    settings = Settings(broker=parse_broker_url(f"ws://127.0.0.1:{ws_broker.ws}"), user="")
    link = open_link(settings, role="nagle")
    try:
        wrapped = link.client.socket()
        assert not isinstance(wrapped, socket.socket)  # paho's wrapper, not the socket
        sock = raw_socket(wrapped)
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        link.close()
