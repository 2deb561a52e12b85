"""The wire format: encoding, strict decoding of anything a peer might send."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mqchat.core.envelope import (
    Delete,
    Edit,
    Envelope,
    EnvelopeError,
    FriendAccept,
    FriendRequest,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    Unknown,
    encode_envelope,
    parse_envelope,
)
from mqchat.core.ids import new_message_id
from mqchat.core.model import PresenceState
from mqchat.core.presence import decode_presence, encode_presence
from mqchat.core.wire import format_ts, parse_ts

TS = datetime(2026, 11, 22, 4, 0, 0, 123000, tzinfo=UTC)


def good(**changes: object) -> bytes:
    obj: dict[str, object] = {
        "v": 1,
        "id": "0193-abc",
        "type": "text",
        "from": "alice",
        "to": "bob",
        "ts": "2026-11-22T04:00:00.123Z",
        "body": "hello",
    }
    obj.update(changes)
    return json.dumps({k: v for k, v in obj.items() if v is not ...}).encode()


def test_text_envelope_has_the_design_fields() -> None:
    env = Text.new("alice", "bob", "hello", id="x1", ts=TS)
    assert json.loads(encode_envelope(env)) == {
        "v": 1,
        "id": "x1",
        "type": "text",
        "from": "alice",
        "to": "bob",
        "ts": "2026-11-22T04:00:00.123Z",
        "body": "hello",
    }


def test_round_trip() -> None:
    env = Text.new("alice", "bob", "héllo 👋 [b]x[/b]", ts=TS)
    assert parse_envelope(encode_envelope(env)) == env


def test_receipt_round_trip() -> None:
    env = Receipt(
        id="r1", sender="bob", recipient="alice", ts=TS, ids=("a", "b"), status=ReceiptStatus.READ
    )
    back = parse_envelope(encode_envelope(env))
    assert back.ids == ("a", "b") and back.status == "read"


def test_unknown_types_parse_but_are_not_known() -> None:
    env = parse_envelope(good(type="reaction", body=None))
    assert isinstance(env, Unknown) and env.type == "reaction"


HEAD = '{"v":1,"id":"e1","type":"%s","from":"bob","to":"alice","ts":"2026-11-22T04:00:00.123Z"'


@pytest.mark.parametrize(
    ("env", "wire"),
    [
        (
            Text(id="e1", sender="bob", recipient="alice", ts=TS, body='héllo "👋"\n'),
            HEAD % "text" + ',"body":"héllo \\"👋\\"\\n"}',
        ),
        (
            Receipt(
                id="e1",
                sender="bob",
                recipient="alice",
                ts=TS,
                ids=("a", "b"),
                status=ReceiptStatus.DELIVERED,
            ),
            HEAD % "receipt" + ',"ids":["a","b"],"status":"delivered"}',
        ),
        (Typing(id="e1", sender="bob", recipient="alice", ts=TS), HEAD % "typing" + "}"),
        (
            FriendRequest(id="e1", sender="bob", recipient="alice", ts=TS, name="Bob"),
            HEAD % "friend_request" + ',"name":"Bob"}',
        ),
        (
            FriendAccept(id="e1", sender="bob", recipient="alice", ts=TS),
            HEAD % "friend_accept" + "}",
        ),
        (
            Edit(id="e1", sender="bob", recipient="alice", ts=TS, target="m1", body="fixed"),
            HEAD % "edit" + ',"target":"m1","body":"fixed"}',
        ),
        (
            Delete(id="e1", sender="bob", recipient="alice", ts=TS, target="m1"),
            HEAD % "delete" + ',"target":"m1"}',
        ),
    ],
    ids=["text", "receipt", "typing", "friend_request", "friend_accept", "edit", "delete"],
)
def test_each_type_has_its_exact_wire_bytes(env: Envelope, wire: str) -> None:
    assert encode_envelope(env) == wire.encode()
    assert parse_envelope(wire.encode()) == env


def test_an_empty_receipt_is_accepted_and_acknowledges_nothing() -> None:
    env = parse_envelope(good(type="receipt", ids=[], status="read"))
    assert isinstance(env, Receipt) and env.ids == ()


@pytest.mark.parametrize("status", [{"read": 1}, ["read"]])
def test_a_receipt_status_of_any_json_type_is_an_envelope_error(status: object) -> None:
    with pytest.raises(EnvelopeError, match="'status'"):
        parse_envelope(good(type="receipt", ids=["a"], status=status))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"{not json", "JSON"),
        (b"[1,2]", "object"),
        (good(v="1"), "'v'"),
        (good(v=True), "'v'"),
        (good(id=5), "'id'"),
        (good(id="x" * 65), "'id'"),
        (good(type=None), "'type'"),
        (good(**{"from": "a/b"}), "'from'"),
        (good(to=7), "'to'"),
        (good(ts="yesterday"), "'ts'"),
        (good(ts=12), "'ts'"),
        (good(body=["x"]), "'body'"),
        (good(type="receipt", ids="a", status="read"), "'ids'"),
        (good(type="receipt", ids=["a"], status="seen"), "'status'"),
        (good(type="edit", target="m1", body=None), "'body' of an edit"),
        (good(type="edit", target="m1", body=3), "'body' of an edit"),
        (good(type="edit", body="x"), "'target'"),
        (good(type="delete", target=""), "'target'"),
        (good(type="delete", target="x" * 65), "'target'"),
        (good(type="delete", target=["m1"]), "'target'"),
        (b"[" * 100000 + b"]" * 100000, "limit"),
    ],
)
def test_malformed_payloads_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(payload)
    assert reason in str(info.value)


def test_deep_nesting_under_the_limit_is_rejected_not_crashing() -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(b"[" * 30000 + b"]" * 30000)


def test_oversized_payload_is_rejected_before_decoding() -> None:
    big = good(body="x" * 70_000)
    with pytest.raises(EnvelopeError, match="exceeds"):
        parse_envelope(big)
    assert parse_envelope(big, max_size=100_000).body == "x" * 70_000


ROBUST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROBUST
@given(st.binary(max_size=300))
def test_decoder_never_fails_other_than_with_envelope_error(data: bytes) -> None:
    with contextlib.suppress(EnvelopeError):
        parse_envelope(data)


@ROBUST
@given(
    st.dictionaries(
        st.sampled_from(["v", "id", "type", "from", "to", "ts", "body", "ids", "status", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=40),
            st.lists(st.text(max_size=5), max_size=3),
        ),
    )
)
def test_decoder_survives_any_json_object(obj: dict[str, object]) -> None:
    try:
        env = parse_envelope(json.dumps(obj).encode())
    except EnvelopeError:
        return
    assert isinstance(env.id, str) and isinstance(env.sender, str)


def test_message_ids_are_uuid7_and_sort_by_time() -> None:
    a = new_message_id(1_700_000_000_000)
    b = new_message_id(1_700_000_000_001)
    assert a[14] == "7" and a < b and len(a) == 36


def test_format_ts_is_utc_milliseconds() -> None:
    assert format_ts(TS) == "2026-11-22T04:00:00.123Z"


def test_presence_round_trip_and_will_marker() -> None:
    p = decode_presence("alice", encode_presence(PresenceState.ONLINE, name="Alice", ts=TS))
    assert (p.state, p.name, p.since, p.lost) == (PresenceState.ONLINE, "Alice", TS, False)
    will = decode_presence("alice", encode_presence(PresenceState.OFFLINE, name=None, lost=True))
    assert will.state is PresenceState.OFFLINE and will.lost


@pytest.mark.parametrize("payload", [b"{}", b'{"state":"gone"}', b"nope", b'{"state":1}'])
def test_bad_presence_is_rejected(payload: bytes) -> None:
    with pytest.raises(EnvelopeError):
        decode_presence("alice", payload)


def test_cleared_presence_reads_as_offline() -> None:
    assert decode_presence("alice", b"").state is PresenceState.OFFLINE


def test_ids_made_in_a_burst_keep_their_order() -> None:
    # Many ids share a millisecond; their order must still be the order they were made.
    ids = [new_message_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}


def test_timestamps_of_early_years_round_trip() -> None:
    early = datetime(5, 1, 1, 12, 0, tzinfo=UTC)
    assert format_ts(early) == "0005-01-01T12:00:00.000Z"
    assert parse_ts(format_ts(early)) == early
