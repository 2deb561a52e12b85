"""--mqtt-version and the fallback to 3.1.1, the same for every command: a broker that
hangs up on an MQTT 5 CONNECT (rather than answering "unsupported protocol version")
gets a second try with 3.1.1, unless the user asked for 5."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder
from tests.support.v311_proxy import V311OnlyProxy

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


async def mqchat(*args: str, data: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mqchat", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=ROOT, env=env | {"MQCHAT_DATA_DIR": str(data)},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_headless_commands_fall_back_after_a_hang_up(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    topic = f"{namespace}/old"
    async with V311OnlyProxy(broker.port, hang_up=True) as proxy:
        rc, _, err = await mqchat("send", "bob", "hi", "--user", "alice",
                                  "--broker", proxy.url, data=tmp_path)  # fmt: skip
        assert rc == 0, err
        rc, _, err = await mqchat("pub", topic, "kept", "-r", "--broker", proxy.url, data=tmp_path)
        assert rc == 0, err
        rc, out, err = await mqchat("sub", topic, "-C", "1", "--broker", proxy.url, data=tmp_path)
        assert (rc, out) == (0, "kept\n"), err
        assert (proxy.refused_v5, proxy.passed) == (3, 3)


async def test_asking_for_5_means_no_fallback(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with V311OnlyProxy(broker.port, hang_up=True) as proxy:
        for command in (["send", "bob", "hi", "--user", "alice"], ["pub", f"{namespace}/x", "v"]):
            rc, _, err = await mqchat(*command, "-V", "5", "--broker", proxy.url, data=tmp_path)
            assert rc == 1
            said = err.splitlines()[-1]
            assert said.endswith(
                f"127.0.0.1:{proxy.port} closed the connection before answering: is it a TLS "
                "port (mqtts://) or a WebSocket port (ws://), or does it refuse MQTT 5 (try "
                "--mqtt-version 3.1.1)?"
            )
            assert len(err.splitlines()) == 1
        assert proxy.passed == 0


async def test_asking_for_3_1_1_never_tries_5(broker: Mosquitto, tmp_path: Path) -> None:
    async with V311OnlyProxy(broker.port) as proxy:
        rc, _, err = await mqchat("send", "bob", "hi", "--user", "alice", "--broker", proxy.url,
                                  "--mqtt-version", "3.1.1", data=tmp_path)  # fmt: skip
        assert rc == 0, err
        assert (proxy.refused_v5, proxy.passed) == (0, 1)


async def test_the_chat_falls_back_after_a_hang_up(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    async with V311OnlyProxy(broker.port, hang_up=True) as proxy:
        settings = Settings(
            broker=parse_broker_url(proxy.url), user="alice", data_dir=tmp_path,
            namespace=namespace, keepalive=5,
        )  # fmt: skip
        service = ChatService(settings)
        events = Recorder()
        service.set_listener(events)
        task = asyncio.create_task(service.run())
        try:
            up = await events.wait_for(
                ConnectionChanged, lambda e: e.state is ConnectionState.CONNECTED
            )
            assert up.protocol == "3.1.1"
            assert "the broker does not support MQTT 5" in up.detail
        finally:
            await service.stop()
            await asyncio.wait_for(task, 10)
