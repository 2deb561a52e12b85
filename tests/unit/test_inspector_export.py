"""JSON Lines export: one object per message, text payloads as text, anything else
as base64, and lines that are safe to print."""

from __future__ import annotations

import base64
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mqchat.inspector.capture import Captured
from mqchat.inspector.export import to_json_line, to_json_lines, to_record

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TS = 1_795_320_000.123456  # 2026-11-22T04:00:00.123Z


def test_a_text_message() -> None:
    message = Captured(1, TS, "home/t", b"21.5", 4, 1, True)
    assert to_json_line(message) == (
        '{"topic":"home/t","ts":"2026-11-22T04:00:00.123Z","qos":1,"retain":true,'
        '"size":4,"encoding":"utf-8","payload":"21.5"}'
    )


def test_binary_payloads_are_base64() -> None:
    record = json.loads(to_json_line(Captured(1, TS, "b", b"\xff\x00\x01", 3)))
    assert record["encoding"] == "base64"
    assert base64.b64decode(record["payload"]) == b"\xff\x00\x01"


def test_truncated_payloads_and_properties_are_marked() -> None:
    props = {
        "ContentType": "application/json",
        "UserProperty": [("k", "v")],
        "MessageExpiryInterval": 60,
    }
    record = to_record(Captured(1, TS, "t", b"abc", 100, 0, False, props))
    assert record["truncated"] is True and record["size"] == 100
    assert json.loads(to_json_line(Captured(1, TS, "t", b"abc", 100, 0, False, props)))[
        "properties"
    ] == {
        "ContentType": "application/json",
        "UserProperty": [["k", "v"]],
        "MessageExpiryInterval": 60,
    }
    assert "properties" not in to_record(Captured(1, TS, "t", b"abc", 3))


def test_hostile_text_is_escaped_but_round_trips() -> None:
    payload = "grüße \x1b[2J\u202e\x7f\x9b\n".encode()
    line = to_json_line(Captured(1, TS, "evil\u2066/t", payload, len(payload)))
    assert not UNSAFE.search(line)
    assert "\n" not in line and "grüße" in line
    record = json.loads(line)
    assert record["payload"].encode() == payload and record["topic"] == "evil\u2066/t"


def test_a_wild_timestamp_does_not_crash() -> None:
    assert json.loads(to_json_line(Captured(1, 1e20, "t", b"", 0)))["ts"].endswith("Z")


def test_lines_end_in_newlines() -> None:
    lines = list(to_json_lines([Captured(1, TS, "a", b"1", 1), Captured(2, TS, "b", b"2", 1)]))
    assert len(lines) == 2 and all(line.endswith("}\n") for line in lines)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.text(min_size=1, max_size=20))
def test_any_payload_round_trips(payload: bytes, topic: str) -> None:
    line = to_json_line(Captured(7, TS, topic, payload, len(payload)))
    assert not UNSAFE.search(line)
    record = json.loads(line)
    decoded = (
        base64.b64decode(record["payload"])
        if record["encoding"] == "base64"
        else record["payload"].encode()
    )
    assert decoded == payload and record["topic"] == topic
