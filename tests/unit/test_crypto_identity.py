"""A device's identity keys (issue 16's foundation): made once and kept 0600, never
replaced when damaged; the signed public record verifies, and anything tampered,
misplaced or malformed is refused with a reason."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mqchat.crypto.identity import (
    DeviceIdentity,
    IdentityFileError,
    KeyRecordError,
    verify_record,
)
from mqchat.crypto.safety import safety_number

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_keys_are_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "identity.json"
    path.parent.mkdir()
    first = DeviceIdentity.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = DeviceIdentity.load_or_create(path)
    assert again.public("alice", "d1") == first.public("alice", "d1")
    assert DeviceIdentity.generate().public("alice", "d1") != first.public("alice", "d1")


def test_a_damaged_key_file_is_refused_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    path.write_text("{not json")
    with pytest.raises(IdentityFileError, match="damaged"):
        DeviceIdentity.load_or_create(path)
    assert path.read_text() == "{not json"  # peers know the old keys: never overwritten


def test_a_record_verifies_and_says_whose_keys_they_are() -> None:
    me = DeviceIdentity.generate()
    record = me.record("alice", "a1b2c3", T0)
    assert verify_record(record, user="alice", device="a1b2c3") == me.public("alice", "a1b2c3")


def tampered(record: bytes, **changes: object) -> bytes:
    return json.dumps(json.loads(record) | changes).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"x25519": base64.b64encode(b"\x01" * 32).decode()}, "signature"),
        ({"ts": "2027-01-01T00:00:00.000Z"}, "signature"),
        ({"user": "mallory"}, "found on 'alice'"),
        ({"device": "ffff"}, "made for device"),
        ({"v": 2}, "version"),
        ({"ed25519": "not base64!"}, "base64"),
        ({"x25519": base64.b64encode(b"short").decode()}, "32 bytes"),
        ({"sig": base64.b64encode(b"\x00" * 64).decode()}, "signature"),
    ],
)
def test_a_tampered_record_is_refused(change: dict[str, object], reason: str) -> None:
    record = DeviceIdentity.generate().record("alice", "a1b2c3", T0)
    with pytest.raises(KeyRecordError, match=reason):
        verify_record(tampered(record, **change), user="alice", device="a1b2c3")


def test_a_record_signed_by_another_key_is_refused() -> None:
    mine, theirs = DeviceIdentity.generate(), DeviceIdentity.generate()
    forged = json.loads(mine.record("alice", "d1", T0))
    forged["sig"] = json.loads(theirs.record("alice", "d1", T0))["sig"]
    with pytest.raises(KeyRecordError, match="signature"):
        verify_record(json.dumps(forged).encode(), user="alice", device="d1")


@pytest.mark.parametrize("data", [b"", b"[]", b"\xff", b"{" * 5000])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(KeyRecordError):
        verify_record(data, user="alice", device="d1")


def test_safety_numbers_are_the_same_on_both_sides() -> None:
    alice = DeviceIdentity.generate().public("alice", "d1").signing
    bob = DeviceIdentity.generate().public("bob", "d2").signing
    number = safety_number("alice", [alice], "bob", [bob])
    assert re.fullmatch(r"(\d{5} ){11}\d{5}", number)
    assert safety_number("bob", [bob], "alice", [alice]) == number
    # A new key, or another device, is another number.
    other = DeviceIdentity.generate().public("bob", "d3").signing
    assert safety_number("alice", [alice], "bob", [other]) != number
    assert safety_number("alice", [alice], "bob", [bob, other]) != number
    assert safety_number("alice", [alice], "bob", [other, bob]) == safety_number(
        "alice", [alice], "bob", [bob, other]
    )


def test_the_safety_number_construction_is_pinned() -> None:
    # Fixed keys, fixed number: the algorithm cannot change unnoticed (both sides
    # of a conversation must compute it the same way, whatever their version).
    number = safety_number("alice", [b"\x01" * 32], "bob", [b"\x02" * 32])
    assert number == PINNED


PINNED = "33733 96326 40826 94116 50463 95424 83365 03742 66538 59881 97838 08930"
