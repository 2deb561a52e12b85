"""Sealing a message for every device of its recipients (construction version 1),
from standard parts of the ``cryptography`` package:

1. **Pair keys.** Each pair of devices shares a secret, X25519 of one's private key
   and the other's public key. HKDF-SHA256 turns it into one ChaCha20-Poly1305 key
   per direction: salt the sender's X25519 public key then the recipient's, info
   ``mqchat seal v1``. Derived once per pair and kept (:meth:`DeviceIdentity.pair`),
   so a message costs no public-key operation at all.
2. **The content.** A fresh 32-byte content key encrypts the plaintext once with
   ChaCha20-Poly1305 (a random 12-byte nonce); the associated data binds the
   message's id, type, sender and recipient, and the sender's device.
3. **A wrapped content key per recipient device**, under the pair key from the
   sender's device to it (a random 12-byte nonce), the associated data binding the
   same, the device it is for, and the SHA-256 of the content's nonce and
   ciphertext.

A device that opens its wrapped key knows the sender's device made it: only the two
of them hold their pair key. The digest in 3 means a recipient device, which learns
the content key, still cannot change the content for another recipient device: that
device's wrapped key would no longer open. This is the authentication of
``crypto_box`` (static Diffie-Hellman), extended to many recipients; like it, it is
deniable (no signature a third party could check) and has no forward secrecy.
``v`` in the sealed object versions the construction, so a ratchet (forward
secrecy) can follow as version 2.

A sealed message is JSON: ``{"v":1,"from":DEVICE,"n":…,"ct":…,"keys":[{"u":USER,
"d":DEVICE,"n":…,"k":…}]}``, bytes in base64."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from mqchat.crypto.identity import DeviceIdentity, PublicIdentity

__all__ = [
    "MAX_SEALED_FOR",
    "SEAL_VERSION",
    "Binding",
    "NotForUs",
    "SealError",
    "open_sealed",
    "seal",
    "sealed_by",
]

SEAL_VERSION = 1
MAX_SEALED_FOR = 64
"""Wrapped keys in one sealed message, at most: a user's devices, and the sender's
own other devices."""


class SealError(ValueError):
    """A sealed message that must not be shown; the text says why."""


class NotForUs(SealError):
    """A sealed message with no key for this device: sealed for others."""


@dataclass(frozen=True, slots=True)
class Binding:
    """What the encryption binds the message to: a copy that claims another id,
    type, sender or recipient does not open."""

    id: str
    type: str
    sender: str
    recipient: str

    def data(self) -> bytes:
        return _json_list(self.id, self.type, self.sender, self.recipient)


_json_string = json.encoder.encode_basestring_ascii
"""A string as json.dumps writes it (ASCII, escaped), at C speed."""


def _json_list(*items: str) -> bytes:
    """``json.dumps(list(items)).encode()`` for strings, without its generic path."""
    return ("[" + ", ".join(_json_string(item) for item in items) + "]").encode()


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


def _content_aad(binding: Binding, sender_device: str) -> bytes:
    return binding.data() + b"\n" + _json_string(sender_device).encode()


def _wrap_aad(content_aad: bytes, user: str, device: str, nonce: bytes, ct: bytes) -> bytes:
    digest = hashlib.sha256(nonce + ct).digest()
    return content_aad + b"\n" + _json_list(user, device) + b"\n" + digest


def seal(
    plaintext: bytes,
    binding: Binding,
    sender: DeviceIdentity,
    sender_device: str,
    recipients: Sequence[PublicIdentity],
    *,
    _content_key: bytes | None = None,
    _nonces: Sequence[bytes] = (),
) -> bytes:
    """``plaintext`` sealed for every device in ``recipients`` (the sender's own
    other devices included, if they should read it). The underscored arguments fix
    the randomness (the content's nonce, then one per device), for test vectors."""
    if not 0 < len(recipients) <= MAX_SEALED_FOR:
        raise ValueError(f"sealed for {len(recipients)} devices: 1 to {MAX_SEALED_FOR}")
    nonces = iter(_nonces)
    content_key = _content_key or ChaCha20Poly1305.generate_key()
    nonce = next(nonces, None) or os.urandom(12)
    content_aad = _content_aad(binding, sender_device)
    ct = ChaCha20Poly1305(content_key).encrypt(nonce, plaintext, content_aad)
    keys = []
    for device in recipients:
        wrap_nonce = next(nonces, None) or os.urandom(12)
        aad = _wrap_aad(content_aad, device.user, device.device, nonce, ct)
        wrapped = sender.pair(device.agreement).sending.encrypt(wrap_nonce, content_key, aad)
        keys.append(
            f'{{"u":{_json_string(device.user)},"d":{_json_string(device.device)},'
            f'"n":"{_b64(wrap_nonce)}","k":"{_b64(wrapped)}"}}'
        )
    # What json.dumps(..., separators=(",", ":")) writes, without its cost per message.
    return (
        f'{{"v":{SEAL_VERSION},"from":{_json_string(sender_device)},"n":"{_b64(nonce)}",'
        f'"ct":"{_b64(ct)}","keys":[{",".join(keys)}]}}'
    ).encode()


def sealed_by(fields: object) -> str:
    """The sender's device a sealed object says it comes from (to find its key).
    Raises :class:`SealError`."""
    checked = _fields(fields)
    device = checked.get("from")
    if not isinstance(device, str) or not device or len(device) > 64:
        raise SealError("'from' is missing or not a device id")
    return device


def _fields(fields: object) -> dict[str, Any]:
    if isinstance(fields, bytes | str):
        try:
            fields = json.loads(fields)
        except (UnicodeDecodeError, ValueError):
            raise SealError("not JSON") from None
    if not isinstance(fields, dict):
        raise SealError("not a JSON object")
    if fields.get("v") != SEAL_VERSION:
        raise SealError(f"sealed with version {fields.get('v')!r}, not {SEAL_VERSION}")
    return fields


def open_sealed(
    data: object,
    binding: Binding,
    me: DeviceIdentity,
    my_user: str,
    my_device: str,
    sender: PublicIdentity,
) -> bytes:
    """The plaintext of ``data`` (the sealed object, as bytes or parsed JSON), if
    ``sender``'s device sealed it for this ``binding`` and ``my_device``. Raises
    :class:`SealError` otherwise (tampered, replayed under another id, not for us,
    made with another key)."""
    fields = _fields(data)
    if fields.get("from") != sender.device:
        raise SealError(f"sealed by device {fields.get('from')!r}, not {sender.device!r}")
    keys = fields.get("keys")
    if not isinstance(keys, list) or len(keys) > MAX_SEALED_FOR:
        raise SealError("'keys' is not a list of wrapped keys")
    mine = next(
        (k for k in keys if isinstance(k, dict) and k.get("u") == my_user
         and k.get("d") == my_device),
        None,
    )  # fmt: skip
    if mine is None:
        raise NotForUs("no key for this device")
    nonce, ct = _raw(fields.get("n"), "n", 12), _raw(fields.get("ct"), "ct")
    content_aad = _content_aad(binding, sender.device)
    aad = _wrap_aad(content_aad, my_user, my_device, nonce, ct)
    try:
        content_key = me.pair(sender.agreement).receiving.decrypt(
            _raw(mine.get("n"), "keys.n", 12), _raw(mine.get("k"), "keys.k"), aad
        )
        return ChaCha20Poly1305(content_key).decrypt(nonce, ct, content_aad)
    except InvalidTag:
        raise SealError("it does not decrypt: tampered, or made with another key") from None
