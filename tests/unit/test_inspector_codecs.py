"""The payload codecs (issue 17): MessagePack, CBOR, Protobuf without a schema and with
a descriptor set, Sparkplug B, each decoded whole or refused with one line; detection
that leaves text alone (``55.49`` is a number, never MessagePack) and picks the right
codec for a binary payload; and no input, random, truncated, huge or deeply nested,
makes any of it raise anything but :class:`CodecError`."""

from __future__ import annotations

import contextlib
import math
import random
import struct
from pathlib import Path

import cbor2
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import (
    MAX_DECODE,
    Codec,
    CodecError,
    Decoding,
    Format,
    decode,
    guess,
    load_descriptor_set,
)
from mqchat.inspector.codecs.jsonable import MAX_DEPTH, jsonable
from mqchat.inspector.decoded import decoded_payload
from mqchat.inspector.payload import PayloadKind, detect
from tests.support.codecs import (
    CBOR_DOC,
    MSGPACK_DOC,
    READING_TYPE,
    cbor_bytes,
    msgpack_bytes,
    reading_bytes,
    sparkplug_bytes,
    write_descriptor_set,
)

MSGPACK = Format(Codec.MSGPACK)
CBOR = Format(Codec.CBOR)
RAW = Format(Codec.PROTOBUF)
SPARKPLUG = Format(Codec.SPARKPLUG)
READING = Format(Codec.PROTOBUF, READING_TYPE)
EVERY = (MSGPACK, CBOR, RAW, SPARKPLUG)


@pytest.fixture
def decoding(tmp_path: Path) -> Decoding:
    schema = load_descriptor_set(write_descriptor_set(tmp_path / "demo.desc"))
    return Decoding(schema, READING_TYPE)


def captured(payload: bytes, topic: str = "t", size: int | None = None) -> Captured:
    return Captured(1, 0.0, topic, payload, len(payload) if size is None else size)


# -- each codec ------------------------------------------------------------------------


def test_msgpack_decodes_to_plain_json() -> None:
    assert decode(msgpack_bytes(), MSGPACK) == MSGPACK_DOC
    packed = msgpack.packb({1: b"\x00\xff", "t": msgpack.Timestamp(1, 0), "n": float("nan")})
    assert decode(packed, MSGPACK) == {
        "1": "base64:AP8=",
        "t": "1970-01-01T00:00:01+00:00",
        "n": "nan",
    }


def test_cbor_decodes_tags_bytes_and_dates() -> None:
    assert decode(cbor_bytes(), CBOR) == {**CBOR_DOC, "raw": "base64:AAH+"}
    tagged = cbor2.dumps(cbor2.CBORTag(4242, [1, 2]))
    assert decode(tagged, CBOR) == {"tag": 4242, "value": [1, 2]}
    date = bytes.fromhex("c11a514b67b0")  # tag 1: epoch seconds
    assert decode(date, CBOR) == "2013-03-21T20:04:00+00:00"


@pytest.mark.parametrize(
    ("fmt", "payload", "why"),
    [
        (MSGPACK, msgpack.packb(1) + b"\x02", "not MessagePack: bytes left over after one value"),
        (CBOR, b"\x01\x02", "not CBOR: bytes left over after one data item"),
        (MSGPACK, b"\x92\x01", "not MessagePack"),
        (CBOR, b"\x82\x01", "not CBOR"),
        (RAW, b"\x08", "not Protobuf: a varint runs past its end"),
        (RAW, b"\x00\x01", "not Protobuf: field number 0 or out of range"),
        (RAW, b"\x0b\x0c", "not Protobuf: wire type 3"),
        (RAW, b"\x0a\x05ab", "not Protobuf: a length runs past its end"),
        (RAW, b"", "not Protobuf: empty"),
        (SPARKPLUG, b"\x12\x05ab", "not Sparkplug B"),
    ],
)
def test_what_is_not_the_format_says_why_in_one_line(fmt: Format, payload: bytes, why: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode(payload, fmt)
    assert str(caught.value).startswith(why)
    assert "\n" not in str(caught.value)


def test_protobuf_without_a_schema_shows_field_numbers() -> None:
    # 1: varint 150, 2: "test", 3: nested {1: 1}, 4 twice (repeated), 5: float 21.5
    payload = (
        bytes.fromhex("089601120474657374")
        + b"\x1a\x02\x08\x01"
        + b"\x20\x01\x20\x02"
        + b"\x2d"
        + struct.pack("<f", 21.5)
        + b"\x32\x03\xff\x00\x01"
    )
    assert decode(payload, RAW) == {
        "1": 150,
        "2": "test",
        "3": {"1": 1},
        "4": [1, 2],
        "5": 21.5,
        "6": "base64:/wAB",
    }
    assert decode(reading_bytes(), RAW)["1"] == "boiler"


def test_protobuf_with_a_descriptor_set_names_the_fields(decoding: Decoding) -> None:
    assert decode(reading_bytes(), READING, decoding) == {
        "sensor": "boiler",
        "celsius": 55.49,
        "samples": [1, 2, 3],
        "unit": {"name": "°C"},
    }
    assert decoding.schema is not None
    assert decoding.schema.names == ("demo.Unit", "demo.Reading")
    with pytest.raises(CodecError, match=r"no message type 'demo\.Nope'"):
        decode(reading_bytes(), Format(Codec.PROTOBUF, "demo.Nope"), decoding)
    with pytest.raises(CodecError, match=r"not a demo\.Reading"):
        decode(b"\x0a\x05ab", READING, decoding)


def test_a_bad_descriptor_set_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CodecError, match="cannot read"):
        load_descriptor_set(tmp_path / "missing.desc")
    (tmp_path / "junk.desc").write_bytes(b"\xff\xff\xff")
    with pytest.raises(CodecError, match="not a compiled descriptor set"):
        load_descriptor_set(tmp_path / "junk.desc")
    from google.protobuf import descriptor_pb2

    from tests.support.codecs import demo_files

    lonely = descriptor_pb2.FileDescriptorSet(file=demo_files()[1:])  # the import left out
    (tmp_path / "lonely.desc").write_bytes(lonely.SerializeToString())
    with pytest.raises(CodecError, match="--include_imports"):
        load_descriptor_set(tmp_path / "lonely.desc")


def test_sparkplug_b_payload_with_datatype_names() -> None:
    assert decode(sparkplug_bytes(), SPARKPLUG) == {
        "timestamp": "1700000000000",
        "metrics": [
            {"name": "Temperature", "alias": "1", "datatype": "Double (10)", "double_value": 21.5},
            {
                "name": "Pump/Running",
                "alias": "2",
                "datatype": "Boolean (11)",
                "boolean_value": True,
            },
        ],
        "seq": "7",
    }


# -- detection ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"55.49", b"true", b'"x"', b"23", b"null", b"hello", b"[1]"])
def test_text_stays_text_and_is_never_decoded(payload: bytes) -> None:
    """``55.49`` is valid MessagePack? No, but ``5`` is a fixint and ``"x"`` would be
    garbled; text is judged first and a text payload has no decoded view."""
    assert detect(payload) in (PayloadKind.TEXT, PayloadKind.JSON)
    assert decoded_payload(captured(payload), binary=False) is None


def test_empty_has_no_decoded_view() -> None:
    assert detect(b"") is PayloadKind.EMPTY
    assert guess(b"") is None
    assert decoded_payload(captured(b""), binary=False) is None


def test_each_binary_payload_is_detected_as_its_codec(decoding: Decoding) -> None:
    cases = [
        (msgpack_bytes(), "t", MSGPACK),
        (cbor_bytes(), "t", CBOR),
        (sparkplug_bytes(), "spBv1.0/plant/DDATA/edge/pump", SPARKPLUG),
        (sparkplug_bytes(), "factory/raw", SPARKPLUG),  # its shape alone
        (bytes.fromhex("089601120474657374"), "t", RAW),
    ]
    for payload, topic, expected in cases:
        assert detect(payload) is PayloadKind.BINARY
        found = guess(payload, topic=topic)
        assert found is not None and found.format == expected, (topic, found)
        assert 0.3 <= found.confidence <= 1
    found = guess(reading_bytes(), decoding=decoding)
    assert found is not None and found.format == READING
    assert found.value["celsius"] == 55.49 and found.confidence >= 0.9


def test_a_sparkplug_topic_is_surer_than_the_shape() -> None:
    on_topic = guess(sparkplug_bytes(), topic="spBv1.0/g/DDATA/n")
    off_topic = guess(sparkplug_bytes(), topic="x")
    assert on_topic is not None and off_topic is not None
    assert on_topic.confidence > off_topic.confidence


def test_random_bytes_are_rarely_anything() -> None:
    rng = random.Random(17)
    found = [guess(rng.randbytes(32)) for _ in range(500)]
    assert sum(g is not None for g in found) < 25


def test_a_lone_byte_is_not_confidently_anything() -> None:
    for byte in range(256):
        found = guess(bytes([byte]))
        assert found is None or found.confidence < 0.8


# -- the decoded view ---------------------------------------------------------------


def test_a_chosen_format_that_does_not_fit_says_why() -> None:
    shown = decoded_payload(captured(b"55.49"), binary=False, chosen=MSGPACK)
    assert shown is not None and shown.text is None
    assert shown.error.startswith("not MessagePack")
    assert shown.header == "format: msgpack, set for this topic"


def test_a_cut_capture_is_not_decoded() -> None:
    payload = msgpack_bytes()
    assert decoded_payload(captured(payload, size=10_000), binary=True) is None
    shown = decoded_payload(captured(payload, size=10_000), binary=True, chosen=MSGPACK)
    assert shown is not None and "kept" in shown.error


def test_the_detected_header_has_the_confidence() -> None:
    shown = decoded_payload(captured(msgpack_bytes()), binary=True)
    assert shown is not None and shown.header == "detected: msgpack, 95%"
    assert shown.text is not None and '"device": "pump-7"' in shown.text


def test_hostile_strings_stay_escaped_in_the_decoded_text() -> None:
    shown = decoded_payload(captured(msgpack.packb({"x": "\x1b[31mred\u202e"})), binary=True)
    assert shown is not None and shown.text is not None
    assert "\x1b" not in shown.text and "\u202e" not in shown.text
    assert "\\u001b[31mred\\u202e" in shown.text


# -- bounds: never raise, never run away -------------------------------------------------


@pytest.mark.parametrize("fmt", EVERY)
def test_deep_nesting_is_refused_or_cut(fmt: Format) -> None:
    deep = {
        MSGPACK: b"\x91" * 100_000 + b"\x01",
        CBOR: b"\x81" * 100_000 + b"\x01",
        RAW: _nested_protobuf(2_000),
        SPARKPLUG: _nested_protobuf(2_000),
    }[fmt]
    try:
        value = decode(deep, fmt)
    except CodecError:
        return
    depth = 0
    while isinstance(value, dict | list) and value:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        depth += 1
    assert depth <= MAX_DEPTH + 1


def _nested_protobuf(levels: int) -> bytes:
    inner = b"\x08\x01"
    for _ in range(levels):
        inner = b"\x0a" + _varint(len(inner)) + inner
    return inner


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def test_jsonable_bounds_what_a_decoder_returns() -> None:
    nested: list[object] = []
    for _ in range(200):
        nested = [nested]
    assert "nested deeper" in str(jsonable(nested))
    assert jsonable(10**5000) == "<integer of 16610 bits>"
    assert jsonable([math.inf, -math.inf]) == ["inf", "-inf"]
    assert len(jsonable(list(range(100_000)))) < 60_000


def test_larger_than_the_cap_is_not_decoded() -> None:
    big = msgpack.packb([0] * (MAX_DECODE + 1))
    assert guess(big) is None
    with pytest.raises(CodecError, match="larger than"):
        decode(big, MSGPACK)


def test_huge_declared_lengths_do_not_allocate() -> None:
    for fmt, payload in [
        (MSGPACK, b"\xdd\xff\xff\xff\xff\x01"),  # array32 of 4 billion
        (CBOR, b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff\x01"),  # array of 2^64-1
        (CBOR, b"\x5b\x00\x00\x00\x01\x00\x00\x00\x00"),  # a 4 GiB byte string
        (RAW, b"\x0a\xff\xff\xff\xff\x0f"),  # a 4 GiB length
    ]:
        with pytest.raises(CodecError):
            decode(payload, fmt)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_codec_error(payload: bytes) -> None:
    for fmt in EVERY:
        with contextlib.suppress(CodecError):
            decode(payload, fmt)
    found = guess(payload)
    assert found is None or 0 <= found.confidence <= 1


def test_every_truncation_of_a_real_payload_is_safe(decoding: Decoding) -> None:
    for payload in (msgpack_bytes(), cbor_bytes(), sparkplug_bytes(), reading_bytes()):
        for end in range(len(payload)):
            for fmt in (*EVERY, READING):
                with contextlib.suppress(CodecError):
                    decode(payload[:end], fmt, decoding)
            guess(payload[:end], decoding=decoding)


def test_random_mutations_of_real_payloads_are_safe(decoding: Decoding) -> None:
    rng = random.Random(1717)
    originals = (msgpack_bytes(), cbor_bytes(), sparkplug_bytes(), reading_bytes())
    for _ in range(2_000):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        for fmt in (*EVERY, READING):
            with contextlib.suppress(CodecError):
                decode(bytes(data), fmt, decoding)
        guess(bytes(data), topic="spBv1.0/x", decoding=decoding)
