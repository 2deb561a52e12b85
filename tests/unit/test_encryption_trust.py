"""Trust on first use (mqchat/chat/encryption.py), on a real history in a temporary
folder: the first keys of a user are taken quietly, a change is taken with a loud
warning and undoes a verification, a cleared record drops its device, a record that
claims this very device with other keys is refused, and once a user has sent us
something sealed, plain text from them is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mqchat.chat.encryption import Encryption
from mqchat.chat.encryption_parts import Refused
from mqchat.core.envelope import Text
from mqchat.core.events import Event, Notice, TrustChanged
from mqchat.crypto.identity import DeviceIdentity
from mqchat.store import ChatStore

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BOB_LAPTOP, BOB_PHONE, BOB_AGAIN = (DeviceIdentity.generate() for _ in range(3))


@pytest.fixture
async def alice(tmp_path: Path) -> AsyncIterator[tuple[Encryption, list[Event]]]:
    store = await ChatStore.open(tmp_path / "alice.sqlite3")
    events: list[Event] = []

    async def opened() -> ChatStore:
        return store

    crypto = Encryption(
        user="alice", namespace="ns", store=opened, emit=events.append, clock=lambda: T0
    )
    assert await crypto.start("a1a1", tmp_path / "alice.sqlite3") is None
    try:
        yield crypto, events
    finally:
        await store.close()


def record(identity: DeviceIdentity, user: str, device: str) -> bytes:
    return identity.record(user, device, T0)


def warnings(events: list[Event]) -> list[str]:
    return [e.title for e in events if isinstance(e, Notice) and e.severity == "error"]


async def test_first_keys_quietly_a_change_loudly(alice: tuple[Encryption, list[Event]]) -> None:
    crypto, events = alice
    assert not crypto.encrypts_to("bob")
    assert await crypto.record_arrived("bob", "b1", record(BOB_LAPTOP, "bob", "b1")) is None
    assert crypto.encrypts_to("bob") and warnings(events) == []
    assert crypto.trust("bob").devices == 1 and crypto.trust("bob").changed is None

    # The same record again (every connection publishes it): nothing happens.
    mark = len(events)
    assert await crypto.record_arrived("bob", "b1", record(BOB_LAPTOP, "bob", "b1")) is None
    assert events[mark:] == []

    verified = await crypto.verify("bob")
    assert verified.verified and isinstance(events[-1], TrustChanged)

    # A new device: taken, but loudly, and no longer verified.
    assert await crypto.record_arrived("bob", "b2", record(BOB_PHONE, "bob", "b2")) is None
    assert warnings(events) == ["⚠ bob's keys changed"]
    trust = crypto.trust("bob")
    assert (trust.devices, trust.verified, trust.changed) == (2, False, T0)
    # New keys for a known device: the same.
    assert await crypto.record_arrived("bob", "b1", record(BOB_AGAIN, "bob", "b1")) is None
    assert warnings(events) == ["⚠ bob's keys changed"] * 2
    # Verified again: the warning goes.
    trust = await crypto.verify("bob")
    assert trust.verified and trust.changed is None
    # A cleared record: its device is dropped, quietly.
    assert await crypto.record_arrived("bob", "b2", b"") is None
    assert crypto.trust("bob").devices == 1 and len(warnings(events)) == 2


async def test_what_is_remembered_across_a_restart(
    alice: tuple[Encryption, list[Event]], tmp_path: Path
) -> None:
    crypto, _events = alice
    await crypto.record_arrived("bob", "b1", record(BOB_LAPTOP, "bob", "b1"))
    await crypto.record_arrived("bob", "b2", record(BOB_PHONE, "bob", "b2"))
    store = await ChatStore.open(tmp_path / "alice.sqlite3")

    async def opened() -> ChatStore:
        return store

    try:
        again = Encryption(
            user="alice", namespace="ns", store=opened, emit=lambda e: None, clock=lambda: T0
        )
        assert await again.start("a1a1", tmp_path / "alice.sqlite3") is None
        assert again.devices("bob") == crypto.devices("bob")
        assert again.trust("bob") == crypto.trust("bob")  # changed, unverified
        assert again.public == crypto.public  # the same key file
    finally:
        await store.close()


async def test_records_that_must_not_be_taken(alice: tuple[Encryption, list[Event]]) -> None:
    crypto, _events = alice
    mine = record(BOB_LAPTOP, "alice", "a1a1")  # this very device, other keys
    assert "this very device" in (await crypto.record_arrived("alice", "a1a1", mine) or "")
    forged = record(BOB_LAPTOP, "bob", "b1").replace(b'"bob"', b'"bub"')
    assert "not usable" in (await crypto.record_arrived("bob", "b1", forged) or "")
    assert "not usable" in (await crypto.record_arrived("bob", "b1", b"\xff{") or "")
    elsewhere = record(BOB_LAPTOP, "bob", "b1")  # published under another device's name
    assert "not usable" in (await crypto.record_arrived("bob", "b9", elsewhere) or "")
    assert not crypto.encrypts_to("bob")


async def test_no_plain_text_once_a_peer_sealed(alice: tuple[Encryption, list[Event]]) -> None:
    crypto, _events = alice
    plain = Text.new("bob", "alice", "hi")
    crypto.check_plain(plain)  # bob never sealed anything: taken
    await crypto.record_arrived("bob", "b1", record(BOB_LAPTOP, "bob", "b1"))
    crypto.check_plain(plain)  # keys alone do not make him an encrypting peer
    bob = Encryption(
        user="bob", namespace="ns", store=_no_store, emit=lambda e: None, clock=lambda: T0
    )
    bob._identity, bob.device = BOB_LAPTOP, "b1"
    bob._keys["alice"] = {"a1a1": crypto.public}  # what bob's record_arrived would keep
    from mqchat.core.envelope import encode_envelope, parse_envelope

    sealed = parse_envelope(bob.seal(encode_envelope(Text.new("bob", "alice", "psst")), "alice"))
    opened = await crypto.unwrap(sealed, final=True, max_size=65536)
    assert isinstance(opened, Text) and opened.body == "psst" and opened.encrypted
    assert crypto.trust("bob").sealed
    with pytest.raises(Refused, match="plain text from bob, who encrypts"):
        crypto.check_plain(plain)


async def _no_store() -> ChatStore:
    raise AssertionError("bob's side keeps nothing in this test")


def test_the_chat_loads_without_the_cryptography_package() -> None:
    """What `mqchat chat` imports before its first frame (cli/main.py) does not pull
    in the cryptography package (~20 ms): it loads when the chat starts."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from mqchat.app import make_app\n"
        "from mqchat.chat.service import ChatService\n"
        "from mqchat.inspector.feed import InspectorFeed\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cryptography')[:3])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "box",
    [
        {},
        {"v": 1},
        {"v": 2, "from": "b1"},
        {"v": 1, "from": 7},
        {"v": 1, "from": "b1", "keys": "nope"},
        {"v": 1, "from": "b1", "keys": [None, 3, "x"]},
        {"v": 1, "from": "b1", "keys": [{"u": "alice", "d": "a1a1"}], "n": "", "ct": ""},
        {
            "v": 1,
            "from": "b1",
            "keys": [{"u": "alice", "d": "a1a1", "n": "!!", "k": 5}],
            "n": "AAAAAAAAAAAAAAAA",
            "ct": "AAAA",
        },
        {"v": 1, "from": "b1", "keys": [{"u": "alice", "d": "a1a1"}] * 100},
    ],
)
async def test_a_malformed_sealed_object_is_refused_never_raised(
    alice: tuple[Encryption, list[Event]], box: dict[str, object]
) -> None:
    from mqchat.core.envelope import Sealed

    crypto, _events = alice
    await crypto.record_arrived("bob", "b1", record(BOB_LAPTOP, "bob", "b1"))
    env = Sealed(id="m1", sender="bob", recipient="alice", ts=T0, box=box)
    with pytest.raises(Refused):
        await crypto.unwrap(env, final=True, max_size=65536)
    assert crypto.peek("ns/u/alice/inbox/bob", b"{}") is None
