"""Sealing a message for every device of its recipients (mqchat/crypto/seal.py):
each device opens it; a tampered part, a copy under another id or sender, another
key, a device it was not sealed for, or content one recipient device changed for
another, does not."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize("part", ["ct", "n"])
def test_a_tampered_part_does_not_open(part: str) -> None:
    data = sealed()
    with pytest.raises(SealError, match="does not decrypt"):
        opened(edit(data, **{part: flip(json.loads(data)[part])}))


@pytest.mark.parametrize("part", ["k", "n"])
def test_a_tampered_wrapped_key_does_not_open(part: str) -> None:
    fields = json.loads(sealed())
    fields["keys"][0][part] = flip(fields["keys"][0][part])
    with pytest.raises(SealError, match="does not decrypt"):
        opened(json.dumps(fields).encode())


def test_one_recipient_device_cannot_change_the_content_for_another() -> None:
    # bob's laptop learns the content key; it makes new content under that key
    # (a valid ciphertext) and keeps the phone's wrapped key as it was.
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    from mqchat.crypto.seal import _content_aad

    fields = json.loads(sealed())
    laptop_key = BOB_LAPTOP.pair(ALICE.public("alice", "a1").agreement).receiving
    mine = fields["keys"][0]
    aad = _content_aad(BINDING, "a1")
    nonce, ct = base64.b64decode(fields["n"]), base64.b64decode(fields["ct"])
    from mqchat.crypto.seal import _wrap_aad

    content_key = laptop_key.decrypt(
        base64.b64decode(mine["n"]), base64.b64decode(mine["k"]),
        _wrap_aad(aad, "bob", "b1", nonce, ct),
    )  # fmt: skip
    fields["ct"] = base64.b64encode(
        ChaCha20Poly1305(content_key).encrypt(nonce, b"meet at the new mill", aad)
    ).decode()
    with pytest.raises(SealError, match="does not decrypt"):
        opened(json.dumps(fields).encode(), BOB_PHONE, "b2")


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
    with pytest.raises(SealError, match="does not decrypt"):
        opened(sealed(), binding=claimed)


def test_a_message_sealed_with_another_key_is_refused() -> None:
    forged = seal(b"hi", BINDING, MALLORY, "a1", [BOB_LAPTOP.public("bob", "b1")])
    with pytest.raises(SealError, match="does not decrypt"):
        opened(forged)
    with pytest.raises(SealError, match="not 'a2'"):  # nor passed off as another device's
        opened(forged, sender=ALICE.public("alice", "a2"))


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
        _content_key=bytes(range(160, 192)),
        _nonces=[bytes(range(192, 204)), bytes(range(204, 216))],
    )
    assert open_sealed(data, BINDING, bob, "bob", "b1", alice.public("alice", "a1")) == b"hello bob"
    assert hashlib.sha256(data).hexdigest() == PINNED


PINNED = "46049005e1971db476df4d1b603a98f30eb4dde466ec6c62244fa02b01766835"


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_the_associated_data_is_json_as_json_dumps_writes_it(items: list[str]) -> None:
    # Peers' ids are any string: the associated data must be the very bytes of
    # json.dumps, which another implementation of version 1 writes.
    from mqchat.crypto.seal import _json_list

    assert _json_list(*items) == json.dumps(items).encode()
