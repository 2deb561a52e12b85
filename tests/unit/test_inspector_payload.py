"""Payload detection and formatting: pretty JSON, text, ``xxd``-style hex, base64,
one-line previews, numbers and sparklines, and property tests that any bytes give
bounded, terminal-safe output without raising."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from mqchat.inspector.payload import (
    FORMAT_LIMIT,
    MAX_NUMERIC_FIELDS,
    PayloadKind,
    View,
    detect,
    fit_width,
    format_payload,
    hex_dump,
    numeric_fields,
    numeric_value,
    preview,
    safe_json_dumps,
    sparkline,
)

# Anything that could drive a terminal: C0 (but newline), DEL, C1, bidi controls.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
UNSAFE_ONE_LINE = re.compile(UNSAFE.pattern[:-1] + "\n]")

# -- detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"", PayloadKind.EMPTY),
        (b'{"a": 1}', PayloadKind.JSON),
        (b"  [1, 2]\n", PayloadKind.JSON),
        (b"23.5", PayloadKind.TEXT),  # a bare scalar is shown as text
        (b'"quoted"', PayloadKind.TEXT),
        (b"{not json", PayloadKind.TEXT),
        ("grüße\tdu\r\n".encode(), PayloadKind.TEXT),
        (b"\xff\xfe", PayloadKind.BINARY),
        (b"a\x00b", PayloadKind.BINARY),
        (b"\x1b[31mred", PayloadKind.BINARY),
        ("\u0085".encode(), PayloadKind.BINARY),  # a C1 control, though valid UTF-8
        (b"[" * 100_000, PayloadKind.TEXT),
    ],
)
def test_detect(payload: bytes, kind: PayloadKind) -> None:
    assert detect(payload) is kind


def test_a_truncated_capture_is_never_json() -> None:
    assert detect(b'{"a": 1}', size=5000) is PayloadKind.TEXT


def test_deeply_nested_json_is_text_not_a_crash() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    assert detect(deep) is PayloadKind.TEXT
    assert format_payload(deep).view is View.TEXT


# -- formatting ----------------------------------------------------------------------


def test_json_is_pretty_printed_and_flagged() -> None:
    shown = format_payload(b'{"t":21.5,"tags":["a","\xc3\xa9"]}')
    assert shown.is_json and shown.kind is PayloadKind.JSON
    assert shown.text == '{\n  "t": 21.5,\n  "tags": [\n    "a",\n    "é"\n  ]\n}'
    assert shown.omitted == 0


def test_json_keeps_hostile_characters_escaped_and_valid() -> None:
    payload = json.dumps({"x": "\u202eevil\x1b[2J\x9b"}).encode()
    shown = format_payload(payload)
    assert shown.is_json
    assert not UNSAFE.search(shown.text)
    assert json.loads(shown.text) == json.loads(payload)


def test_json_view_of_non_json_falls_back_to_text() -> None:
    shown = format_payload(b"plain words", View.JSON)
    assert shown.view is View.TEXT and shown.text == "plain words"


def test_text_drops_controls_and_normalises_line_breaks() -> None:
    shown = format_payload(b"one\r\ntwo\rthree\x1b[31m\x07", View.TEXT)
    assert shown.kind is PayloadKind.BINARY and shown.view is View.TEXT
    assert shown.text == "one\ntwo\nthree[31m"


def test_binary_opens_as_an_xxd_style_hex_dump() -> None:
    shown = format_payload(b"Hello, MQTT!\x00\x01\x02\xff" + b"ab")
    assert shown.kind is PayloadKind.BINARY and shown.view is View.HEX
    assert shown.text.splitlines() == [
        "00000000: 4865 6c6c 6f2c 204d 5154 5421 0001 02ff  Hello, MQTT!....",
        "00000010: 6162                                     ab",
    ]


def test_hex_dump_offsets() -> None:
    lines = hex_dump(bytes(40), offset=0x100).splitlines()
    assert [line[:9] for line in lines] == ["00000100:", "00000110:", "00000120:"]


def test_base64_view_round_trips_and_wraps() -> None:
    data = bytes(range(256)) * 2
    shown = format_payload(data, View.BASE64)
    lines = shown.text.splitlines()
    assert all(len(line) <= 76 for line in lines)
    assert base64.b64decode("".join(lines)) == data


def test_large_payloads_are_formatted_up_to_the_limit() -> None:
    data = b"x" * (FORMAT_LIMIT + 1000)
    shown = format_payload(data)
    assert shown.omitted == 1000
    assert shown.text.endswith("\n… 1,000 more bytes")
    hexed = format_payload(data, View.HEX)
    assert len(hexed.text.splitlines()) == FORMAT_LIMIT // 16 + 1
    b64 = format_payload(data, View.BASE64)
    assert b64.omitted == len(data) - (FORMAT_LIMIT - FORMAT_LIMIT % 3)
    assert base64.b64decode("".join(b64.text.splitlines()[:-1])) == data[: len(data) - b64.omitted]


def test_what_the_capture_cut_off_is_counted() -> None:
    shown = format_payload(b"abc", size=10)
    assert shown.omitted == 7 and shown.text == "abc\n… 7 more bytes"


def test_empty_payload() -> None:
    shown = format_payload(b"")
    assert shown.kind is PayloadKind.EMPTY and shown.text == "" and shown.omitted == 0


# -- previews ------------------------------------------------------------------------


def test_preview_puts_a_text_on_one_line() -> None:
    assert preview(b"line one\nline two\r\nthree\r", 40) == "line one⏎line two⏎three⏎"


def test_preview_truncates_to_the_width() -> None:
    assert preview(b"abcdefghij", 5) == "abcd…"
    assert preview(b"abcde", 5) == "abcde"
    assert preview(b"abc", 5, size=100) == "abc…"


def test_preview_counts_wide_characters_as_two_cells() -> None:
    shown = preview("温度計温度計".encode(), 7)
    assert cell_len(shown) <= 7 and shown.endswith("…") and shown.startswith("温度計")


def test_preview_of_binary_is_hex() -> None:
    assert preview(b"\x00\x01\xff", 30) == "[hex] 00 01 ff"
    assert preview(bytes(100), 12) == "[hex] 00 00…"


def test_preview_of_empty() -> None:
    assert preview(b"", 20) == "(empty)"


def test_preview_width_zero_is_empty() -> None:
    assert preview(b"abc", 0) == ""


def test_fit_width_marks_a_cut() -> None:
    assert fit_width("abc", 10, more=True) == "abc…"
    assert fit_width("ab温", 3) == "ab…"


def test_safe_json_dumps_is_compact_valid_json() -> None:
    text = safe_json_dumps({"a": "é\u2066\ud800"})
    assert text == '{"a":"é\\u2066\\ud800"}'
    assert json.loads(text) == {"a": "é\u2066\ud800"}


# -- numbers and sparklines ----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "value"),
    [
        (b"23.41", None, 23.41),
        (b" -7\n", None, -7.0),
        (b"1e3", None, 1000.0),
        (b".5", None, 0.5),
        (b'"42"', None, 42.0),
        (b'{"temp": 21.5, "unit": "C"}', "temp", 21.5),
        (b'{"a": {"b": [1, 2, 3]}}', "a.b.2", 3.0),
        (b'{"temp": "19.5"}', "temp", 19.5),
        (b'{"temp": 21.5}', None, None),
        (b'{"temp": 21.5}', "missing", None),
        (b'{"on": true}', "on", None),
        (b'{"t": NaN}', "t", None),
        (b"nan", None, None),
        (b"inf", None, None),
        (b"Infinity", None, None),
        (b"1e999", None, None),
        (b"1_000", None, None),
        ("١٢".encode(), None, None),  # Arabic-Indic digits are not a reading
        (b"hello", None, None),
        (b"\xff", None, None),
        (b"", None, None),
        (b"[1, 2]", "5", None),
        (b"9" * 5000, None, None),
    ],
)
def test_numeric_value(payload: bytes, field: str | None, value: float | None) -> None:
    assert numeric_value(payload, field) == value


def test_sparkline_scales_between_min_and_max() -> None:
    line = sparkline([1, 2, 3, 4, 5, 6, 7, 8], 20)
    assert line is not None
    assert line.text == "▁▂▃▄▅▆▇█"
    assert (line.low, line.high, line.last, line.count) == (1, 8, 8, 8)


def test_sparkline_keeps_the_last_values_and_handles_flat_and_empty() -> None:
    line = sparkline(range(100), 10)
    assert line is not None and line.text == "▁▂▃▃▄▅▆▆▇█" and line.low == 90
    flat = sparkline([5.0, 5.0], 10)
    assert flat is not None and flat.text == "▄▄"
    assert sparkline([], 10) is None
    assert sparkline([1.0], 0) is None
    assert sparkline([math.nan, math.inf], 10) is None
    huge = sparkline([-1e308, 1e308], 4)
    assert huge is not None and len(huge.text) == 2


# -- any bytes -------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = [b"{", b"}", b"[", b"]", b'"', b":", b",", b"1", b"e", b"NaN", b"  ", b"\n", b"\r"]
HOSTILE_PIECES = [b"\x1b[2J", b"\xe2\x80\xae", b"\xc2\x9b", b"\x00", b"\xff", b"\xe6\xb8\xa9"]
hostile = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from([*PIECES, *HOSTILE_PIECES]),
        max_size=80,
    ).map(b"".join),
)


@FUZZ
@given(hostile, st.sampled_from([None, *View]), st.integers(16, 512))
def test_formatting_any_bytes_is_bounded_and_safe(
    payload: bytes, view: View | None, limit: int
) -> None:
    shown = format_payload(payload, view, limit=limit)
    assert not UNSAFE.search(shown.text)
    kept = limit - limit % 3 if shown.view is View.BASE64 else limit
    assert shown.omitted == max(0, len(payload) - kept)
    assert len(shown.text) <= 8 * limit + 100


@FUZZ
@given(hostile, st.integers(0, 80))
def test_previews_of_any_bytes_fit_on_one_line(payload: bytes, width: int) -> None:
    line = preview(payload, width, size=len(payload) + 3)
    assert not UNSAFE_ONE_LINE.search(line)
    assert cell_len(line) <= width


@FUZZ
@given(hostile, st.sampled_from([None, "a", "a.0", "0"]))
def test_numbers_from_any_bytes_are_finite_or_none(payload: bytes, field: str | None) -> None:
    value = numeric_value(payload, field)
    assert value is None or math.isfinite(value)


@FUZZ
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True)), st.integers(-2, 40))
def test_sparklines_of_any_floats(values: list[float], width: int) -> None:
    line = sparkline(values, width)
    if line is not None:
        assert 0 < len(line.text) <= width
        assert set(line.text) <= set("▁▂▃▄▅▆▇█")
        assert line.low <= line.last <= line.high


def test_numeric_fields_in_document_order_with_dotted_paths():
    payload = b'{"id":"s1","temp":21.5,"env":{"hum":"48","ok":true},"a":[1,"x"],"d.x":4,"n":null}'
    assert numeric_fields(payload) == ["temp", "env.hum", "a.0"]
    for path in numeric_fields(payload):
        assert numeric_value(payload, path) is not None


@pytest.mark.parametrize(
    "payload", [b"23.4", b'"7"', b"not json", b'{"a":"x"}', b"[" * 100_000, b"\xff\xfe", b"{}"]
)
def test_numeric_fields_of_what_has_none(payload):
    assert numeric_fields(payload) == []


def test_numeric_fields_are_capped():
    payload = json.dumps({f"k{i}": i for i in range(100)}).encode()
    assert numeric_fields(payload) == [f"k{i}" for i in range(MAX_NUMERIC_FIELDS)]
