"""The flight recorder end to end on real brokers (issue 17, acceptance 1, at 2,000
messages; bench/record_replay.py runs the 100,000): ``mqchat record`` on one
mosquitto keeps every message of a mixed flood byte for byte with its QoS, retain
flag and MQTT 5 properties; ``mqchat replay --prefix replay`` publishes it on a
second mosquitto, where ``mqchat sub`` gets the same payloads in the same order per
topic, the retained topics are retained again, and the timing is kept (or not, at
``--speed max``)."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from bench._mixed_flood import flood, publish_flood
from mqchat.core.message import Message
from mqchat.inspector.recording import read_all
from tests.broker.test_pubsub_cli import finish, ours, run, subscribed
from tests.support.mosquitto import Mosquitto
from tests.support.recordings import write_recording

pytestmark = pytest.mark.broker

COUNT = 2000


def _url(broker: Mosquitto) -> str:
    return f"mqtt://127.0.0.1:{broker.port}"


def _per_topic(items: list[tuple[str, tuple]]) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for topic, rest in items:
        grouped[topic].append(rest)
    return dict(grouped)


def _differences(got: dict[str, list[tuple]], wanted: dict[str, list[tuple]]) -> list[str]:
    """Per topic, where ``got`` first differs from ``wanted`` (empty: the same)."""
    out = []
    for topic in sorted(set(got) | set(wanted)):
        a, b = got.get(topic, []), wanted.get(topic, [])
        at = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        if a != b:
            out.append(
                f"{topic}: {len(a)} vs {len(b)}, first at {at}: "
                f"{a[at] if at < len(a) else None!r} vs {b[at] if at < len(b) else None!r}"
            )
    return out


def _props_as_recorded(props: dict | None) -> dict | None:
    if not props:
        return None
    out = dict(props)
    if "CorrelationData" in out:
        out["CorrelationData"] = out["CorrelationData"].hex()
    return out


def _retained(broker: Mosquitto, topic_filter: str) -> dict[str, bytes]:
    """What a new subscriber gets as retained under ``topic_filter``: the broker sends
    it right after the SUBACK, before a marker published once subscribed."""
    marker = f"marker/{uuid.uuid4().hex}"
    got: dict[str, bytes] = {}
    ended = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.topic == marker:
            ended.set()
        elif msg.retain:
            got[msg.topic] = msg.payload

    subscribed_now = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed_now.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.subscribe([(topic_filter, SubscribeOptions(qos=1)), (marker, SubscribeOptions(1))])
        assert subscribed_now.wait(10)
        client.publish(marker, b"end", qos=1)
        assert ended.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    return got


def test_a_recorded_mixed_flood_replays_the_same_per_topic(
    broker: Mosquitto, own_broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    messages = list(flood(COUNT, namespace))
    out = tmp_path / "flood.mqrec"
    record = ours("record", f"{namespace}/#", "--out", str(out), "-q", "2", "-C", str(COUNT),
                  "--broker", _url(broker))  # fmt: skip
    with subscribed(broker, (record, f"{namespace}/#")) as (proc,):
        publish_flood(broker.port, messages)
        status, _, err = finish(proc, timeout=60)
    assert status == 0, err
    assert f"recorded {COUNT:,} messages" in err

    header, recorded, note = read_all(out)
    assert note is None and header["filters"] == [f"{namespace}/#"]
    assert _differences(
        _per_topic([(m.topic, (m.payload, m.qos, m.retain, m.properties)) for m in recorded]),
        _per_topic(
            [(m.topic, (m.payload, m.qos, m.retain, _props_as_recorded(m.properties)))
             for m in messages]
        ),
    ) == []  # fmt: skip

    target = f"replay/{namespace}/#"
    sub = ours("sub", target, "-q", "2", "-C", str(COUNT), "--json", "--broker", _url(own_broker))
    with subscribed(own_broker, (sub, target)) as (proc,):
        done = run(ours("replay", str(out), "--broker", _url(own_broker), "--prefix", "replay",
                        "--speed", "max"), timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"replayed {COUNT:,} of {COUNT:,} messages" in done.stderr.decode()
        status, lines, err = finish(proc, timeout=60)
    assert status == 0, err
    received = []
    for line in lines.decode().splitlines():
        obj = json.loads(line)
        payload = obj["payload"]
        data = base64.b64decode(payload) if obj.get("encoding") == "base64" else payload.encode()
        received.append((obj["topic"], (data, obj["qos"], obj.get("properties"))))
    expected = [  # the properties as JSON has them: pairs as lists
        (f"replay/{m.topic}", (m.payload, m.qos, json.loads(json.dumps(props))))
        for m in messages
        for props in [_props_as_recorded(m.properties)]
    ]
    assert _differences(_per_topic(received), _per_topic(expected)) == []

    last = {f"replay/{m.topic}": m.payload for m in messages if m.retain}
    assert last, "the flood has retained topics"
    assert _retained(own_broker, target) == last


def test_replay_keeps_the_recorded_timing_and_loops(
    own_broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    t0 = 1_800_000_000.0
    recording = write_recording(
        tmp_path / "timed.mqrec",
        [Message(f"{namespace}/t", b"%d" % i, 2, False, None, t0 + i * 0.4) for i in range(4)],
    )  # 1.2 s from the first message to the last
    target = f"{namespace}/t"
    sub = ours("sub", target, "-q", "2", "-C", "4", "--json", "--broker", _url(own_broker))
    with subscribed(own_broker, (sub, target)) as (proc,):
        started = time.monotonic()
        done = run(ours("replay", str(recording), "--broker", _url(own_broker), "--speed", "2"))
        took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in finish(proc)[1].splitlines()]
        assert [(o["payload"], o["qos"]) for o in lines] == [(str(i), 2) for i in range(4)]
    assert took >= 0.6  # 1.2 s at twice the pace

    sub = ours("sub", target, "-C", "10", "--broker", _url(own_broker))
    with subscribed(own_broker, (sub, target)) as (proc,):
        player = subprocess.Popen(
            ours("replay", str(recording), "--broker", _url(own_broker), "--speed", "0", "--loop"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            status, lines, _ = finish(proc)
        finally:
            player.kill()
            player.wait()
    assert status == 0
    assert lines.split() == [b"0", b"1", b"2", b"3"] * 2 + [b"0", b"1"]


def test_record_and_replay_refuse_bad_files_in_one_line(
    own_broker: Mosquitto, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"hello\n")
    done = run(ours("replay", str(bad), "--broker", _url(own_broker)))
    assert done.returncode == 1
    assert (
        done.stderr.decode().strip()
        == f"mqchat: {bad} is not an mqchat recording (no recording header)"
    )
    done = run(ours("record", "a/#", "--out", str(bad), "--broker", _url(own_broker)))
    assert done.returncode == 2
    assert "exists; a recording is never overwritten" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_record_times_out_like_sub_and_leaves_a_readable_recording(
    own_broker: Mosquitto, tmp_path: Path
) -> None:
    out = tmp_path / "quiet.mqrec"
    done = run(ours("record", "quiet/#", "--out", str(out), "-C", "5", "-W", "0.5",
                    "--broker", _url(own_broker)))  # fmt: skip
    assert done.returncode == 27, done.stderr
    assert "timed out after 0.5 s with 0 of 5" in done.stderr.decode()
    header, messages, note = read_all(out)
    assert messages == [] and note is None and header["source"] == "mqchat record"


def test_record_to_a_place_it_cannot_write_is_one_line(
    own_broker: Mosquitto, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "sub" / "r.mqrec"  # its folder would have to be inside a file
    done = run(ours("record", "a/#", "--out", str(out), "-W", "1", "--broker", _url(own_broker)))
    said = done.stderr.decode().strip()
    assert done.returncode == 1, said
    assert said.splitlines() == [said] and said.startswith(f"mqchat: cannot record to {out}")
    assert "Traceback" not in said and not out.exists()
