"""``mqchat sub --format`` against a real mosquitto (issue 17): each payload printed
decoded as one line of JSON, a payload that is not in the format as one
``[undecodable] …`` line (the run goes on), Protobuf with and without a descriptor
set, Sparkplug B with ``-v``; bad option combinations exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.broker.test_pubsub_cli import finish, ours, publish, run, subscribed
from tests.support.codecs import (
    CBOR_DOC,
    MSGPACK_DOC,
    READING,
    READING_TYPE,
    cbor_bytes,
    msgpack_bytes,
    reading_bytes,
    sparkplug_bytes,
    write_descriptor_set,
)
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def _sub(broker: Mosquitto, topic: str, count: int, *flags: str) -> list[str]:
    return ours("sub", topic, "--broker", broker.url, "-C", str(count), *flags)


def test_msgpack_and_cbor_lines_and_markers(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/objects"
    with subscribed(
        broker,
        (_sub(broker, topic, 3, "--format", "msgpack"), topic),
        (_sub(broker, topic, 3, "--format", "cbor"), topic),
    ) as (packed, cbor):
        publish(broker, topic, msgpack_bytes())
        publish(broker, topic, b"55.49")
        publish(broker, topic, cbor_bytes())
        (rc1, out1, err1), (rc2, out2, err2) = finish(packed), finish(cbor)
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    first, number, other = out1.decode().splitlines()
    assert json.loads(first) == MSGPACK_DOC
    assert number == "[undecodable] not MessagePack: bytes left over after one value (5 bytes)"
    assert other.startswith("[undecodable] not MessagePack")
    lines = out2.decode().splitlines()
    assert lines[0].startswith("[undecodable] not CBOR") and lines[1].startswith("[undecodable]")
    assert json.loads(lines[2]) == {**CBOR_DOC, "raw": "base64:AAH+"}


def test_protobuf_with_and_without_a_descriptor(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    topic = f"{namespace}/proto"
    desc = str(write_descriptor_set(tmp_path / "demo.desc"))
    with subscribed(
        broker,
        (_sub(broker, topic, 2, "--format", "protobuf"), topic),
        (_sub(broker, topic, 2, "--descriptor", desc, "--message", READING_TYPE), topic),
    ) as (raw, typed):
        publish(broker, topic, reading_bytes())
        publish(broker, topic, b"\xff\xff\xff")
        (rc1, out1, err1), (rc2, out2, err2) = finish(raw), finish(typed)
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    raw_line, raw_bad = out1.decode().splitlines()
    assert json.loads(raw_line) == {"1": "boiler", "2": 55.49, "3": "base64:AQID", "4": {"1": "°C"}}
    assert raw_bad.startswith("[undecodable] not Protobuf")
    typed_line, typed_bad = out2.decode().splitlines()
    assert json.loads(typed_line) == READING
    assert typed_bad.startswith("[undecodable] not a demo.Reading")


def test_sparkplug_verbose_and_json(broker: Mosquitto, namespace: str) -> None:
    topic = f"spBv1.0/{namespace}/DDATA/edge/pump"
    with subscribed(
        broker,
        (_sub(broker, topic, 1, "--format", "sparkplug", "-v"), topic),
        (_sub(broker, topic, 1, "--format", "json"), topic),
    ) as (spark, as_json):
        publish(broker, topic, sparkplug_bytes())
        (rc1, out1, err1), (rc2, out2, err2) = finish(spark), finish(as_json)
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    shown_topic, _, decoded = out1.decode().rstrip("\n").partition(" ")
    assert shown_topic == topic
    metrics = json.loads(decoded)["metrics"]
    assert [m["name"] for m in metrics] == ["Temperature", "Pump/Running"]
    assert out2.decode().startswith("[undecodable] not JSON")


def test_json_format_is_compact_and_text_numbers_stay_numbers(
    broker: Mosquitto, namespace: str
) -> None:
    topic = f"{namespace}/json"
    with subscribed(broker, (_sub(broker, topic, 3, "--format", "json"), topic)) as (mine,):
        publish(broker, topic, b'{ "a" : [1, 2],\n "b": "\\u001b[31m" }')
        publish(broker, topic, b"55.49")
        publish(broker, topic, b"NaN")
        rc, out, err = finish(mine)
    assert rc == 0, err
    assert out.decode().splitlines() == [
        '{"a":[1,2],"b":"\\u001b[31m"}',
        "55.49",
        "[undecodable] not JSON: NaN is not JSON (3 bytes)",
    ]


def test_bad_format_options_exit_2_with_one_line(broker: Mosquitto, tmp_path: Path) -> None:
    junk = tmp_path / "junk.desc"
    junk.write_bytes(b"\xff\xff")
    desc = str(write_descriptor_set(tmp_path / "demo.desc"))
    cases = [
        (["--message", "demo.Reading"], "--message needs --descriptor"),
        (["--format", "cbor", "--json"], "does not go with --json"),
        (["--descriptor", str(junk), "--message", "x.Y"], "not a compiled descriptor set"),
        (["--descriptor", desc], "--descriptor needs --message TYPE (the set has: demo.Unit"),
        (["--descriptor", desc, "--message", "demo.Nope"], "no message type 'demo.Nope'"),
        (["--descriptor", desc, "--format", "cbor", "--message", READING_TYPE], "decodes Protobuf"),
        (["--format", "yaml"], "invalid choice"),
    ]
    for flags, why in cases:
        done = run(ours("sub", "t", "--broker", broker.url, "-W", "1", *flags))
        err = done.stderr.decode()
        assert done.returncode == 2, (flags, err)
        assert why in err, (flags, err)
        assert "Traceback" not in err
