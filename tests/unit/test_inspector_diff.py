"""The payload diff of the detail's ``d`` view: JSON by key path in document order,
text by line, bytes by changed range, binary payloads a codec decodes by value;
bounded and terminal-safe on hostile input."""

from __future__ import annotations

import json

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import Codec, Format
from mqchat.inspector.diff import DIFF_LIMIT, MAX_LINES, MAX_VALUES, Sign, payload_diff
from mqchat.widgets.inspector.diff_render import diff_body

T = 1_700_000_000.0


def lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    return [(line.sign.value, line.text) for line in payload_diff(before, after).lines]


def test_json_by_key_path_in_document_order() -> None:
    before = json.dumps({"a": 1, "b": {"c": [1, 2]}, "x": True}).encode()
    after = json.dumps({"a": 2, "b": {"c": [1, 2, 3]}, "y": None}).encode()
    diff = payload_diff(before, after)
    assert diff.kind == "json"
    assert diff.summary == "1 changed, 2 added, 1 removed"
    assert lines(before, after) == [
        ("~", "a: 1 → 2"),
        ("+", "b.c[2]: 3"),
        ("-", "x: true"),
        ("+", "y: null"),
    ]


def test_json_types_count_apart_and_odd_keys_are_quoted() -> None:
    assert lines(b'{"on": 1}', b'{"on": true}') == [("~", "on: 1 → true")]
    assert lines(b'{"on": 1}', b'{"on": 1.0}') == [("~", "on: 1 → 1.0")]
    assert lines(b"[1]", b'{"a": 1}') == [("~", '(the whole document): [1] → {"a":1}')]
    hostile = lines(b'{"\\u001b[2J.x": 1}', b'{"\\u001b[2J.x": 2}')
    assert hostile == [("~", '["\\u001b[2J.x"]: 1 → 2')]


def test_same_payload_and_same_values() -> None:
    assert payload_diff(b'{"a": 1}', b'{"a": 1}').same
    same = payload_diff(b'{"a": 1}', b'{"a":1}')
    assert same.summary == "same values" and same.same


def test_text_by_line() -> None:
    diff = payload_diff(b"one\ntwo\nthree", b"one\nTWO\nthree\nfour")
    assert diff.kind == "text"
    assert diff.summary == "2 lines added, 1 removed"
    signs = [(line.sign, line.text) for line in diff.lines]
    assert (Sign.REMOVED, "two") in signs and (Sign.ADDED, "TWO") in signs
    assert (Sign.ADDED, "four") in signs and signs[0][0] is Sign.HUNK
    assert payload_diff(b"55.49", b"55.50").kind == "text"  # a number stays text


def test_bytes_by_changed_range_and_length() -> None:
    before = bytes(range(40))
    after = bytes(range(10)) + b"\xff\xff" + bytes(range(12, 50))
    diff = payload_diff(before, after)
    assert diff.kind == "binary"
    assert diff.summary == "1 byte range changed, 10 B added"
    assert lines(before, after)[0] == ("~", "0x000a–0x000b (2 B): 0a 0b → ff ff")
    cut = payload_diff(after, before)
    assert cut.summary.endswith("10 B cut")
    assert payload_diff(b"{}", b"{", cut=True).kind == "binary"  # cut: never parsed


def test_bounded_on_huge_documents() -> None:
    before = json.dumps([0] * 25_000, separators=(",", ":")).encode()  # under DIFF_LIMIT
    after = json.dumps([1] * 25_000, separators=(",", ":")).encode()
    diff = payload_diff(before, after)
    assert len(diff.lines) == MAX_LINES
    assert diff.more > 0
    assert f"compared the first {MAX_VALUES:,} values" in diff.summary


def test_deep_nesting_is_no_exception() -> None:
    deep = b"[" * 20_000 + b"]" * 20_000
    assert payload_diff(deep, deep + b" ").kind in ("text", "binary")
    huge = bytes(DIFF_LIMIT * 2)
    diff = payload_diff(huge, huge[:-1] + b"\x01")  # compared on the first DIFF_LIMIT bytes
    assert diff.kind == "bytes" and diff.same


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_any_bytes_give_bounded_safe_lines(before: bytes, after: bytes) -> None:
    diff = payload_diff(before, after)
    assert len(diff.lines) <= MAX_LINES + 1
    for line in diff.lines:
        assert "\x1b" not in line.text and "\x07" not in line.text


def test_binary_payloads_a_codec_decodes_compare_by_value() -> None:
    old, new = msgpack.packb({"rpm": 1450, "on": True}), msgpack.packb({"rpm": 1475, "on": True})
    before = Captured(1, T, "plant/pump", old, len(old))
    after = Captured(2, T + 1, "plant/pump", new, len(new))
    shown = diff_body(after, before).plain
    assert "1 changed  (msgpack)" in shown
    assert "~ rpm: 1450 → 1475" in shown
    cbor = Format(Codec.CBOR)  # a format set for the topic that does not fit: bytes
    assert "(binary)" in diff_body(after, before, chosen=cbor).plain
    assert "no previous message" in diff_body(after, None).plain
