"""mqchat never publishes above the QoS a broker takes: the CONNACK's Maximum QoS with
MQTT 5, what a QoS 2 subscription is granted with 3.1.1 (qos_limit.py). Against
mosquitto with ``max_qos 1``, which, like NATS, drops a client that publishes at QoS 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.mqtt.qos_limit import connack_max_qos, downgrade_notice, granted_qos
from tests.support.mosquitto import Mosquitto, require_mosquitto

ROOT = Path(__file__).resolve().parents[2]


def test_what_a_connack_allows() -> None:
    assert connack_max_qos(None) is None  # MQTT 3.1.1: the CONNACK cannot say
    props = Properties(PacketTypes.CONNACK)
    assert connack_max_qos(props) == 2  # MQTT 5, nothing said: QoS 2 is supported
    props.MaximumQoS = 1
    assert connack_max_qos(props) == 1


def test_what_a_suback_granted() -> None:
    assert granted_qos(ReasonCode(PacketTypes.SUBACK, identifier=1)) == 1
    assert granted_qos(ReasonCode(PacketTypes.SUBACK, identifier=0x80)) is None  # refused


def test_the_notice() -> None:
    assert downgrade_notice("h:1", 2, 1, what="publishing") == (
        "h:1 takes QoS 1 at most (NATS and some brokers have no QoS 2); "
        "publishing at QoS 1 instead of 2"
    )


@pytest.fixture(scope="module")
def qos1_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    require_mosquitto()
    server = Mosquitto(tmp_path_factory.mktemp("qos1"), extra_config="max_qos 1\n").start()
    yield server
    server.stop()


def mqchat(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    return subprocess.run(
        [sys.executable, "-m", "mqchat", *args], capture_output=True, cwd=ROOT, env=env, timeout=30
    )


@pytest.mark.broker
@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_qos_2_is_lowered_to_what_the_broker_takes(
    qos1_broker: Mosquitto, namespace: str, version: str
) -> None:
    topic = f"{namespace}/qos"
    broker = ["--broker", qos1_broker.url, "-V", version]
    pub = mqchat("pub", topic, "at most once more", "-q", "2", "-r", *broker)
    assert pub.returncode == 0, pub.stderr  # not dropped by the broker
    assert pub.stderr.decode().splitlines() == [
        f"mqchat: 127.0.0.1:{qos1_broker.port} takes QoS 1 at most (NATS and some brokers "
        "have no QoS 2); publishing at QoS 1 instead of 2"
    ]
    sub = mqchat("sub", topic, "-q", "2", "-C", "1", "--json", *broker)
    assert sub.returncode == 0, sub.stderr
    assert b'"payload": "at most once more", "qos": 1, "retain": true' in sub.stdout
    assert b"messages arrive at QoS 1 instead of 2" in sub.stderr


async def _inspector_publishes_qos2(url: str, tmp_path: Path) -> tuple[int | None, bool]:
    """(the QoS the inspector's feed published with, still connected after)."""
    import asyncio

    from mqchat.config.broker_url import parse_broker_url
    from mqchat.config.settings import Settings
    from mqchat.core.model import ConnectionState
    from mqchat.inspector.backend import PublishRequest
    from mqchat.inspector.feed import InspectorFeed

    feed = InspectorFeed(Settings(broker=parse_broker_url(url), user="", data_dir=tmp_path))
    feed.subscribe("qos/#", 0)
    feed.start()
    try:
        async with asyncio.timeout(10):
            while feed.connection.state is not ConnectionState.CONNECTED:
                await asyncio.sleep(0.02)  # the feed works on its own thread
            outcome = await feed.publish(PublishRequest(topic="qos/two", payload=b"x", qos=2))
            # the message comes back on our own subscription: the link is still up
            while feed.received < 1:
                await asyncio.sleep(0.02)
        return outcome.qos_used, feed.connection.state is ConnectionState.CONNECTED
    finally:
        await feed.stop()


@pytest.mark.broker
async def test_the_inspector_publishes_qos2_at_1_where_the_broker_has_no_qos2(
    qos1_broker: Mosquitto, tmp_path: Path
) -> None:
    assert await _inspector_publishes_qos2(qos1_broker.url, tmp_path) == (1, True)


@pytest.mark.broker
async def test_the_inspector_keeps_its_nats_connection_on_qos2(tmp_path: Path) -> None:
    from tests.support.brokers import Nats, require_nats

    require_nats()
    nats = Nats(tmp_path / "nats").start()
    try:
        assert await _inspector_publishes_qos2(nats.url, tmp_path) == (1, True)
    finally:
        nats.stop()


@pytest.mark.broker
async def test_the_inspector_keeps_qos2_where_the_broker_has_it(tmp_path: Path) -> None:
    require_mosquitto()
    server = Mosquitto(tmp_path / "m").start()
    try:
        assert await _inspector_publishes_qos2(server.url, tmp_path) == (2, True)
    finally:
        server.stop()
