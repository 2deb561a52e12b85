"""Sealing a message for every device of its recipients (mqchat/crypto/seal.py):
each device opens it; a tampered part, a copy under another id or sender, another
key, or a device it was not sealed for does not."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from mqchat.crypto.identity import DeviceIdentity
from mqchat.crypto.seal import Binding, SealError, open_sealed, seal, sealed_by

BINDING = Binding("01a24980-cb45-7aec-b0e5-393b93a91fd3", "text", "alice", "bob")
ALICE, BOB_LAPTOP, BOB_PHONE, MALLORY = (DeviceIdentity.generate() for _ in range(4))


def sealed(text: bytes = b"meet at the old mill", binding: Binding = BINDING) -> bytes:
    bob = [BOB_LAPTOP.public("bob", "b1"), BOB_PHONE.public("bob", "b2")]
    return seal(text, binding, ALICE, "a1", bob)


def opened(data: bytes, who: DeviceIdentity = BOB_LAPTOP, device: str = "b1", **kw) -> bytes:
    binding = kw.get("binding", BINDING)
    sender = kw.get("sender", ALICE.public("alice", "a1"))
    return open_sealed(data, binding, who, "bob", device, sender)


def test_every_device_of_the_recipient_opens_it() -> None:
    data = sealed()
    assert opened(data) == b"meet at the old mill"
    assert opened(data, BOB_PHONE, "b2") == b"meet at the old mill"
    assert sealed_by(data) == "a1"
    assert b"old mill" not in data and b"alice" not in data  # the broker sees neither


def edit(data: bytes, **changes: object) -> bytes:
    return json.dumps(json.loads(data) | changes).encode()


def flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("part", ["ct", "n", "eph"])
def test_a_tampered_part_does_not_open(part: str) -> None:
    data = sealed()
    with pytest.raises(SealError):
        opened(edit(data, **{part: flip(json.loads(data)[part])}))


def test_a_tampered_wrapped_key_does_not_open() -> None:
    fields = json.loads(sealed())
    fields["keys"][0]["k"] = flip(fields["keys"][0]["k"])
    with pytest.raises(SealError, match="signature"):
        opened(json.dumps(fields).encode())


@pytest.mark.parametrize(
    "claimed",
    [
        Binding("01a24980-cb45-7aec-b0e5-393b93a91fd4", "text", "alice", "bob"),  # replayed
        Binding(BINDING.id, "text", "mallory", "bob"),  # passed off as another's
        Binding(BINDING.id, "text", "alice", "carol"),  # forwarded to another
        Binding(BINDING.id, "edit", "alice", "bob"),  # another type
    ],
)
def test_a_copy_claiming_other_circumstances_does_not_open(claimed: Binding) -> None:
    with pytest.raises(SealError, match="signature"):
        opened(sealed(), binding=claimed)


def test_a_message_sealed_with_another_key_is_refused() -> None:
    forged = seal(b"hi", BINDING, MALLORY, "a1", [BOB_LAPTOP.public("bob", "b1")])
    with pytest.raises(SealError, match="signature"):
        opened(forged)


def test_a_device_it_was_not_sealed_for_cannot_open_it() -> None:
    with pytest.raises(SealError, match="no key for this device"):
        opened(sealed(), MALLORY, "b3")
    # Even claiming a device that was: its wrapped key is not for this key.
    with pytest.raises(SealError, match="does not decrypt"):
        opened(sealed(), MALLORY, "b1")


@pytest.mark.parametrize("data", [b"", b"[]", b"\xff", b'{"v":2}'])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(SealError):
        opened(data)


def test_the_construction_is_pinned() -> None:
    # Fixed keys and randomness: the same bytes every time, and for any other
    # implementation of version 1 (docs/protocol.md gives these values).
    alice = DeviceIdentity(
        X25519PrivateKey.from_private_bytes(bytes(range(32))),
        Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))),
    )
    bob = DeviceIdentity(
        X25519PrivateKey.from_private_bytes(bytes(range(64, 96))),
        Ed25519PrivateKey.from_private_bytes(bytes(range(96, 128))),
    )
    data = seal(
        b"hello bob",
        BINDING,
        alice,
        "a1",
        [bob.public("bob", "b1")],
        _ephemeral=X25519PrivateKey.from_private_bytes(bytes(range(128, 160))),
        _content_key=bytes(range(160, 192)),
        _nonce=bytes(range(192, 204)),
    )
    assert open_sealed(data, BINDING, bob, "bob", "b1", alice.public("alice", "a1")) == b"hello bob"
    assert hashlib.sha256(data).hexdigest() == PINNED


PINNED = "ee9818cc5d8dc1b51e50205581d7554af2e59949ed6fb542846f21cc46b12b88"
