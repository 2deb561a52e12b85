"""`mqchat probe URL` against real brokers (issue 17, acceptance 3): mosquitto with
MQTT 5, mosquitto with ``max_qos 1``, NATS's MQTT gateway and the embedded broker
each get their own limits reported, capability by capability, by the command as a
user runs it, in under 5 s; nothing it made is left behind; a broker it cannot use
is one line, exit 1.

Each broker starts once for the module; under xdist the module runs on one worker
(``--dist loadgroup``), so the timings are not shared with another probe."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.mqtt.link import open_link
from mqchat.mqtt.protocol import Protocol
from mqchat.mqtt.retained import collect_retained
from mqchat.mqtt.session import open_session
from tests.support.brokers import EmbeddedServe, Nats, require_nats
from tests.support.mosquitto import Mosquitto, free_port, require_mosquitto
from tests.support.tls_broker import start_tls_broker

pytestmark = [pytest.mark.broker, pytest.mark.xdist_group("probe")]
ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5.0
"""Seconds a probe may take, start of the command to its exit (acceptance 3)."""
MiB = 1024 * 1024

# What every broker here does alike.
COMMON = {"retain": True, "wildcards": ["+", "#"], "max_packet": MiB, "will": True}


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    return subprocess.run(
        [sys.executable, "-m", "mqchat", "probe", *args],
        capture_output=True, text=True, timeout=30, cwd=ROOT, env=clean | (env or {}),
    )  # fmt: skip


def measured(*args: str, password: str | None = None, tidy: bool = True) -> dict[str, Any]:
    """The JSON report of ``mqchat probe ARGS --json``, checked to come within
    :data:`LIMIT` seconds with nothing on stderr; ``tidy``: and nothing it could
    not clean up."""
    started = time.monotonic()
    done = probe(*args, "--json", env={"MQCHAT_PASSWORD": password} if password else None)
    wall = time.monotonic() - started
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    print(f"probe {' '.join(args)}: {report['elapsed_s']:.2f} s measuring, {wall:.2f} s in all")
    assert wall < LIMIT
    if tidy:
        assert report["problems"] == []
    return report


def values(report: dict[str, Any]) -> dict[str, Any]:
    return {key: c["value"] for key, c in report["capabilities"].items()}


def said(report: dict[str, Any]) -> dict[str, Any]:
    return {key: c["said"] for key, c in report["capabilities"].items() if c["said"] is not None}


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    require_mosquitto()
    server = Mosquitto(tmp_path_factory.mktemp("probe-mosquitto")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mosquitto_qos1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    require_mosquitto()
    server = Mosquitto(tmp_path_factory.mktemp("probe-qos1"), extra_config="max_qos 1\n").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nats]:
    require_nats()
    server = Nats(tmp_path_factory.mktemp("probe-nats")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServe]:
    server = EmbeddedServe(tmp_path_factory.mktemp("probe-embedded")).start()
    yield server
    server.stop()


def test_mosquitto_with_mqtt5(mosquitto: Mosquitto) -> None:
    report = measured(mosquitto.url)
    assert report["protocol"] == "5"
    assert values(report) == COMMON | {
        "protocol": "5",
        "max_qos": 2,
        "shared": True,
        "topic_refused": [],
        "sys": True,
        "session": True,
        "topic_aliases": 10,
        "receive_maximum": 20,
    }
    # what its CONNACK says, beside what was seen
    assert said(report) == {
        "max_qos": 2,
        "retain": True,
        "wildcards": True,
        "shared": True,
        "max_packet": "no limit",
    }
    assert "mosquitto version" in report["capabilities"]["sys"]["note"]


def test_mosquitto_with_max_qos_1(mosquitto_qos1: Mosquitto) -> None:
    report = measured(mosquitto_qos1.url)
    found = values(report)
    assert (found["protocol"], found["max_qos"], said(report)["max_qos"]) == ("5", 1, 1)
    note = report["capabilities"]["max_qos"]["note"]
    assert "granted 1" in note and "QoS 2 publish closed the connection" in note
    assert {k: found[k] for k in COMMON} == COMMON
    assert (found["shared"], found["topic_refused"], found["session"]) == (True, [], True)


def test_nats(nats: Nats) -> None:
    report = measured(nats.url)
    assert report["protocol"] == "3.1.1"
    assert values(report) == COMMON | {
        "protocol": "3.1.1",  # MQTT 5 refused: the fallback the chat makes too
        "max_qos": 1,
        "shared": False,
        "topic_refused": [".", " "],  # mapped onto NATS subjects: the connection drops
        "sys": False,
        "session": True,
    }
    assert said(report) == {}  # MQTT 3.1.1: the CONNACK says nothing
    assert "MQTT 5 refused" in report["capabilities"]["protocol"]["note"]


def test_the_embedded_broker(embedded: EmbeddedServe) -> None:
    report = measured(embedded.url, "--user", "tester")
    assert values(report) == COMMON | {
        "protocol": "3.1.1",
        "max_qos": 2,
        "shared": False,
        "topic_refused": [],
        "sys": True,
        "session": True,
    }
    assert "aMQTT" in report["capabilities"]["sys"]["note"]


def test_the_embedded_broker_keeps_no_queue_for_an_anonymous_login(
    embedded: EmbeddedServe,
) -> None:
    """Measured for the login in use, not assumed per broker: amqtt queues nothing
    for an anonymous session (docs/brokers.md#amqtt)."""
    report = measured(embedded.url)
    assert values(report)["session"] is False
    assert "never came" in report["capabilities"]["session"]["note"]


def test_mqtt_311_as_asked(mosquitto: Mosquitto) -> None:
    report = measured(mosquitto.url, "-V", "3.1.1")
    found = values(report)
    assert (found["protocol"], found["max_qos"], found["shared"]) == ("3.1.1", 2, True)
    assert "as asked" in report["capabilities"]["protocol"]["note"]
    assert said(report) == {} and "topic_aliases" not in found


def test_the_table_and_what_is_left_behind(mosquitto: Mosquitto) -> None:
    done = probe("--broker", mosquitto.url)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"127.0.0.1:{mosquitto.port}: MQTT 5, probed in ")
    assert lines[1].split() == ["CAPABILITY", "VALUE", "NOTE"]
    assert any(line.startswith("maximum QoS") and " 2 " in line for line in lines)
    # nothing retained under the probe's prefix; nothing queued for a session it made
    settings = Settings(broker=parse_broker_url(mosquitto.url), user="")
    link = open_link(settings, role="check")
    try:
        assert collect_retained(link, "mqchat-probe/#", settle=0.3) == []
    finally:
        link.close()
    log = (mosquitto.folder / "mosquitto.log").read_text(errors="replace")
    made = set(re.findall(r" as (mqchat-probe-[0-9a-f]+)", log))
    assert made  # its persistent session…
    for client_id in made:  # …is gone: nothing is queued for it any more
        assert asyncio.run(_session_present(settings, client_id)) is False


async def _session_present(settings: Settings, client_id: str) -> bool:
    async with open_session(settings, Protocol.V5, session_id=client_id) as session:
        return session.session_present


def test_over_tls_and_websockets(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The connection options are `sub`'s: wss:// with a CA of its own."""
    require_mosquitto()
    server = start_tls_broker(tmp_path_factory.mktemp("probe-wss"))
    try:
        url = f"wss://127.0.0.1:{server.wss}"
        report = measured(url, "--cafile", str(server.files.ca))
    finally:
        server.stop()
    assert report["broker"] == f"127.0.0.1:{server.wss} (TLS, WebSocket)"
    found = values(report)
    assert {k: found[k] for k in ("protocol", "max_qos", "session", "will")} == {
        "protocol": "5",
        "max_qos": 2,
        "session": True,
        "will": True,
    }


@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_a_prefix_the_acl_forbids_is_unknown_not_missing(tmp_path: Path, version: str) -> None:
    """An ACL that keeps the login away from mqchat-probe/ makes, with 3.1.1, every
    message vanish as a missing capability would: the probe says it cannot tell."""
    require_mosquitto()
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic readwrite allowed/#\n")
    server = Mosquitto(
        tmp_path / "acl-broker", users={"alice": "pw"}, extra_config=f"acl_file {acl}\n"
    ).start()
    try:
        # (3.1.1 cannot tell a refused clear from a lost one: "may be left")
        report = measured(server.url, "--user", "alice", "-V", version, password="pw", tidy=False)
    finally:
        server.stop()
    found = values(report)
    for key in ("max_qos", "retain", "wildcards", "shared", "session", "will"):
        assert found[key] is None, key
        assert "(an ACL?)" in report["capabilities"][key]["note"]
    assert found["protocol"] == version


def test_a_broker_it_cannot_use_is_one_line(tmp_path: Path) -> None:
    down = probe(f"mqtt://127.0.0.1:{free_port()}")
    assert down.returncode == 1 and down.stdout == ""
    assert down.stderr.count("\n") == 1 and "is the broker running" in down.stderr
    require_mosquitto()
    server = Mosquitto(tmp_path / "auth", users={"alice": "right"}).start()
    try:
        refused = probe(server.url, "--user", "alice", env={"MQCHAT_PASSWORD": "wrong"})
    finally:
        server.stop()
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "refused the login" in refused.stderr


def test_bad_arguments_are_one_line() -> None:
    both = probe("mqtt://a:1", "--broker", "mqtt://b:2")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
    assert "not both" in both.stderr
    bad = probe("foo://x")
    assert bad.returncode == 2 and "unsupported scheme" in bad.stderr
    assert bad.stderr.count("\n") == 1
