"""``mqchat bench pub|sub`` as a user runs it, on real brokers (issue 17, acceptance
4): with mosquitto's ``max_queued_messages 1000`` a slow subscriber loses messages
and the report says how many; without the limit nothing is lost. Also: a load
measured by ``bench sub`` elsewhere, the embedded broker and NATS, bad arguments,
a broker that is down, and Ctrl+C's partial report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.mqtt.link import open_link
from tests.support.brokers import EmbeddedServe, Nats, require_nats
from tests.support.mosquitto import Mosquitto, free_port, require_mosquitto

pytestmark = [pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}


def bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mqchat", "bench", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=_env(),
    )  # fmt: skip


def report(*args: str) -> dict[str, Any]:
    done = bench(*args, "--json")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Mosquitto]:
    require_mosquitto()
    broker = Mosquitto(tmp_path / "limited", max_queued=1000).start()
    yield broker
    broker.stop()


@pytest.fixture
def unlimited(tmp_path: Path) -> Iterator[Mosquitto]:
    require_mosquitto()
    broker = Mosquitto(tmp_path / "unlimited").start()
    yield broker
    broker.stop()


# 4000 QoS 1 messages offered in 0.5 s; the slow subscriber reads 1000 a second, so
# the broker must hold ~3000 for it: more than 1000 queued + 20 in flight.
SLOW_RUN = ("-n", "4000", "-r", "8000", "-q", "1", "--slow-subscriber", "1000", "--drain", "1")


def test_a_queue_limit_shows_as_the_slow_subscribers_loss(limited: Mosquitto) -> None:
    got = report("pub", "--broker", limited.url, *SLOW_RUN)
    assert (got["sent"], got["refused"], got["unconfirmed"]) == (4000, 0, 0)
    _fast, slow = got["subscribers"]
    assert slow["name"] == "slow subscriber"
    assert slow["lost"] > 0
    assert slow["received"] + slow["lost"] == 4000  # every message accounted for
    assert slow["duplicated"] == 0
    print(json.dumps(got))  # the figures, for the record (-s)


def test_without_a_limit_the_slow_subscriber_loses_nothing(unlimited: Mosquitto) -> None:
    got = report("pub", "--broker", unlimited.url, *SLOW_RUN)
    assert got["sent"] == 4000
    for sub in got["subscribers"]:
        assert (sub["received"], sub["lost"], sub["duplicated"]) == (4000, 0, 0), sub
        assert set(sub["latency_ms"]) == {"p50", "p90", "p99", "max"}
    print(json.dumps(got))


def test_the_readable_report_names_each_figure(unlimited: Mosquitto) -> None:
    done = bench("pub", "--broker", unlimited.url, "-n", "200", "-c", "2", "-s", "100")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    for words in ("offered rate    as fast as possible", "publish rate", "received      200",
                  "lost 0  duplicated 0  out of order 0", "latency ms    p50"):  # fmt: skip
        assert words in done.stdout, done.stdout


def test_bench_sub_measures_a_load_published_elsewhere(unlimited: Mosquitto) -> None:
    watcher = subprocess.Popen(
        [sys.executable, "-m", "mqchat", "bench", "sub", "bench-elsewhere/#",
         "--broker", unlimited.url, "-C", "300", "-W", "30", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(),
    )  # fmt: skip
    try:
        assert watcher.stderr is not None
        said = watcher.stderr.readline()  # once subscribed: the load may start
        assert said.startswith("mqchat: measuring bench-elsewhere/#"), said
        sent = report(
            "pub", "--broker", unlimited.url, "--prefix", "bench-elsewhere", "-n", "300",
            "-q", "1", "--no-subscribe",
        )  # fmt: skip
        assert sent["subscribers"] == []
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert (watcher.returncode, err) == (0, "")
    got = json.loads(out)
    assert got["runs"] == [
        {"run": sent["run"], "received": 300, "lost": 0, "duplicated": 0, "out_of_order": 0}
    ]
    assert (got["received"], got["foreign"]) == (300, 0)


@pytest.mark.parametrize("kind", ["embedded", "nats"])
def test_other_brokers(kind: str, tmp_path: Path) -> None:
    if kind == "nats":
        require_nats()
        server: EmbeddedServe | Nats = Nats(tmp_path / "nats").start()
    else:
        server = EmbeddedServe(tmp_path / "embedded").start()
    try:
        got = report("pub", "--broker", server.url, "-n", "300", "-q", "1", "-r", "3000")
    finally:
        server.stop()
    (sub,) = got["subscribers"]
    assert (got["sent"], sub["received"], sub["lost"], sub["duplicated"]) == (300, 300, 0, 0)


@pytest.mark.parametrize(
    "args",
    [
        ("pub", "-n", "0"),
        ("pub", "-n", "100000001"),
        ("pub", "-r", "fast"),
        ("pub", "-n", "5", "-d", "2"),
        ("pub", "--no-subscribe", "--slow-subscriber", "10"),
        ("pub", "--prefix", "a/#"),
        ("sub", "a/#/b"),
        ("lab",),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    done = bench(*args, "--broker", f"mqtt://127.0.0.1:{free_port()}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("mqchat")


def test_a_broker_that_is_down_is_one_line_and_exit_1() -> None:
    done = bench("pub", "--broker", f"mqtt://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_prints_the_partial_report(unlimited: Mosquitto, sig: int, status: int) -> None:
    settings = Settings(broker=parse_broker_url(unlimited.url), user="")
    link = open_link(settings, role="test")
    arrived: list[bytes] = []
    link.on_message(lambda m: arrived.append(m.payload))
    link.subscribe(["ctrl-c/#"], 0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mqchat", "bench", "pub", "--broker", unlimited.url,
         "--prefix", "ctrl-c", "-d", "60", "-r", "100", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(),
    )  # fmt: skip
    try:
        link.wait_for(lambda: len(arrived) >= 5, 20, "bench messages")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        link.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status, err
    got = json.loads(out)
    assert got["interrupted"] is True
    # the 5th may be on the wire and not yet counted complete when Ctrl+C lands
    assert got["attempted"] >= 5
    assert got["sent"] + got["unconfirmed"] == got["attempted"]
