"""Sealing a message for every device of its recipients (issue 16's construction,
version 1), from standard parts of the ``cryptography`` package:

1. a fresh 32-byte content key encrypts the plaintext once with
   ChaCha20-Poly1305 (a 12-byte random nonce), the associated data binding the
   message's id, type, sender and recipient;
2. the content key is wrapped for each recipient device: a fresh X25519 key pair
   per message, the shared secret with the device's X25519 key through
   HKDF-SHA256 (salt: both public keys; info: ``mqchat seal v1``) gives a wrapping
   key, which encrypts the content key with ChaCha20-Poly1305 (nonce zero: each
   wrapping key is used once), the same associated data;
3. the sender signs the whole (the header, every wrapped key, the ciphertext) with
   its device's Ed25519 key, so a receiver knows which device of the sender made
   it, and nobody can swap a part.

``v`` in the sealed object versions the construction, so forward secrecy (a
ratchet) can follow as version 2. A sealed message is JSON: what a receiver needs
to find its wrapped key and check the signature, and the ciphertext."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mqchat.crypto.identity import DeviceIdentity, PublicIdentity

__all__ = ["SEAL_VERSION", "Binding", "SealError", "open_sealed", "seal", "sealed_by"]

SEAL_VERSION = 1
_INFO = b"mqchat seal v1"
_ZERO_NONCE = bytes(12)


class SealError(ValueError):
    """A sealed message that must not be shown; the text says why."""


@dataclass(frozen=True, slots=True)
class Binding:
    """What the encryption binds the message to: a copy that claims another id,
    type, sender or recipient does not open."""

    id: str
    type: str
    sender: str
    recipient: str

    def data(self) -> bytes:
        return json.dumps([self.id, self.type, self.sender, self.recipient]).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise SealError(f"'{what}' is missing or not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SealError(f"'{what}' is not base64") from None
    if size is not None and len(raw) != size:
        raise SealError(f"'{what}' is not {size} bytes")
    return raw


def _wrapping_key(shared: bytes, ephemeral: bytes, device: bytes) -> ChaCha20Poly1305:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + device, info=_INFO)
    return ChaCha20Poly1305(key.derive(shared))


def _public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _signed(fields: dict[str, Any], binding: Binding) -> bytes:
    body = {k: v for k, v in fields.items() if k != "sig"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return binding.data() + b"\n" + canonical


def seal(
    plaintext: bytes,
    binding: Binding,
    sender: DeviceIdentity,
    sender_device: str,
    recipients: Sequence[PublicIdentity],
    *,
    _ephemeral: X25519PrivateKey | None = None,
    _content_key: bytes | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    """``plaintext`` sealed for every device in ``recipients`` (the sender's own
    other devices included, if they should read it). The underscored arguments fix
    the randomness, for test vectors only."""
    ephemeral = _ephemeral or X25519PrivateKey.generate()
    content_key = _content_key or ChaCha20Poly1305.generate_key()
    nonce = _nonce or os.urandom(12)
    aad = binding.data()
    eph = _public(ephemeral)
    keys = []
    for device in recipients:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(device.agreement))
        wrapping = _wrapping_key(shared, eph, device.agreement)
        wrapped = wrapping.encrypt(_ZERO_NONCE, content_key, aad)
        keys.append({"u": device.user, "d": device.device, "k": _b64(wrapped)})
    fields: dict[str, Any] = {
        "v": SEAL_VERSION,
        "from": sender_device,
        "eph": _b64(eph),
        "keys": keys,
        "n": _b64(nonce),
        "ct": _b64(ChaCha20Poly1305(content_key).encrypt(nonce, plaintext, aad)),
    }
    fields["sig"] = _b64(sender.signing.sign(_signed(fields, binding)))
    return json.dumps(fields, separators=(",", ":")).encode()


def sealed_by(data: bytes) -> str:
    """The sender's device a sealed message says it comes from (to find its key).
    Raises :class:`SealError`."""
    fields = _fields(data)
    device = fields.get("from")
    if not isinstance(device, str) or not device:
        raise SealError("'from' is missing")
    return device


def _fields(data: bytes) -> dict[str, Any]:
    try:
        fields = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise SealError("not JSON") from None
    if not isinstance(fields, dict):
        raise SealError("not a JSON object")
    if fields.get("v") != SEAL_VERSION:
        raise SealError(f"sealed with version {fields.get('v')!r}, not {SEAL_VERSION}")
    return fields


def open_sealed(
    data: bytes,
    binding: Binding,
    me: DeviceIdentity,
    my_user: str,
    my_device: str,
    sender: PublicIdentity,
) -> bytes:
    """The plaintext of ``data``, if ``sender``'s device signed it for this
    ``binding`` and it holds a key for ``my_device``. Raises :class:`SealError`
    otherwise (tampered, replayed under another id, not for us, another key)."""
    fields = _fields(data)
    if fields.get("from") != sender.device:
        raise SealError(f"sealed by device {fields.get('from')!r}, not {sender.device!r}")
    signature = _raw(fields.get("sig"), "sig", 64)
    try:
        Ed25519PublicKey.from_public_bytes(sender.signing).verify(
            signature, _signed(fields, binding)
        )
    except InvalidSignature:
        raise SealError("the signature does not verify with the sender's key") from None
    keys = fields.get("keys")
    if not isinstance(keys, list):
        raise SealError("'keys' is not a list")
    mine = next(
        (k for k in keys if isinstance(k, dict) and k.get("u") == my_user
         and k.get("d") == my_device),
        None,
    )  # fmt: skip
    if mine is None:
        raise SealError("no key for this device")
    eph = _raw(fields.get("eph"), "eph", 32)
    shared = me.agreement.exchange(X25519PublicKey.from_public_bytes(eph))
    own = _public(me.agreement)
    aad = binding.data()
    try:
        content_key = _wrapping_key(shared, eph, own).decrypt(
            _ZERO_NONCE, _raw(mine.get("k"), "k"), aad
        )
        return ChaCha20Poly1305(content_key).decrypt(
            _raw(fields.get("n"), "n", 12), _raw(fields.get("ct"), "ct"), aad
        )
    except InvalidTag:
        raise SealError("it does not decrypt (tampered, or not for this key)") from None
