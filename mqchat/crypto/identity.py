"""A device's identity for end-to-end encryption: two key pairs made on first use,
X25519 (to agree keys with peers) and Ed25519 (to sign), kept in one file only its
owner may read; and the public record peers fetch (published retained), signed with
the Ed25519 key so that the user, the device and both keys travel as one.

The record proves possession of the keys, not who owns them: peers trust the first
keys they see for a user and warn when they change (trust on first use), and users
who care compare safety numbers (:mod:`mqchat.crypto.safety`)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from mqchat.config.private_files import write_private_text
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.wire import format_ts

__all__ = [
    "MAX_RECORD_BYTES",
    "DeviceIdentity",
    "IdentityFileError",
    "KeyRecordError",
    "PairKeys",
    "PublicIdentity",
    "verify_record",
]

MAX_RECORD_BYTES = 4096
_KEY_BYTES = 32
_FILE_VERSION = 1
_RECORD_VERSION = 1
_PAIR_INFO = b"mqchat seal v1"
_MAX_PAIRS = 4096


class KeyRecordError(ValueError):
    """A published key record that must not be used; the text says why."""


class IdentityFileError(OSError):
    """The device's key file cannot be read or used; the text names it."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise KeyRecordError(f"'{what}' is missing or not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRecordError(f"'{what}' is not base64") from None
    return raw


def _raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def _pair_key(shared: bytes, salt: bytes) -> bytes:
    """One direction's key from a pair's shared secret: the salt is the sender's
    X25519 public key, then the recipient's."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_PAIR_INFO).derive(shared)


def _signed_part(fields: dict[str, Any]) -> bytes:
    """The bytes the signature covers: every field but ``sig``, canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class PublicIdentity:
    """A device's public keys, as its record says."""

    user: str
    device: str
    agreement: bytes
    """The X25519 public key (32 bytes)."""
    signing: bytes
    """The Ed25519 public key (32 bytes)."""


@dataclass(frozen=True, slots=True)
class PairKeys:
    """The two keys this device shares with one other device: one for what it
    sends there, one for what it receives from there (mqchat/crypto/seal.py)."""

    sending: ChaCha20Poly1305
    receiving: ChaCha20Poly1305


class DeviceIdentity:
    """This device's private keys."""

    def __init__(self, agreement: X25519PrivateKey, signing: Ed25519PrivateKey) -> None:
        self.agreement = agreement
        self.signing = signing
        self._agreement_public = _raw_public(agreement.public_key())
        self._pairs: dict[bytes, PairKeys] = {}

    def pair(self, peer_agreement: bytes) -> PairKeys:
        """The keys shared with the device whose X25519 public key is
        ``peer_agreement``: derived on first use, then kept. Raises
        :class:`ValueError` for a key that is not 32 bytes."""
        pair = self._pairs.get(peer_agreement)
        if pair is None:
            if len(self._pairs) >= _MAX_PAIRS:
                self._pairs.clear()  # derived again as needed: a bound, not a loss
            shared = self.agreement.exchange(X25519PublicKey.from_public_bytes(peer_agreement))
            mine = self._agreement_public
            pair = self._pairs[peer_agreement] = PairKeys(
                ChaCha20Poly1305(_pair_key(shared, mine + peer_agreement)),
                ChaCha20Poly1305(_pair_key(shared, peer_agreement + mine)),
            )
        return pair

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> DeviceIdentity:
        """The keys in ``path``, made (and written, 0600) when it does not exist.
        Raises :class:`IdentityFileError` for a file that is there but unusable:
        it is never replaced, since peers know its keys."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            identity = cls.generate()
            write_private_text(path, identity._file_text())
            return identity
        except (OSError, UnicodeDecodeError) as exc:
            raise IdentityFileError(f"cannot read the device's keys {path}: {exc}") from None
        try:
            obj = json.loads(text)
            if obj.get("v") != _FILE_VERSION:
                raise ValueError(f"version {obj.get('v')!r}")
            agreement = base64.b64decode(obj["x25519"], validate=True)
            signing = base64.b64decode(obj["ed25519"], validate=True)
            return cls(
                X25519PrivateKey.from_private_bytes(agreement),
                Ed25519PrivateKey.from_private_bytes(signing),
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise IdentityFileError(f"the device's keys {path} are damaged: {exc}") from None

    def _file_text(self) -> str:
        def raw(key: X25519PrivateKey | Ed25519PrivateKey) -> str:
            return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

        obj = {"v": _FILE_VERSION, "x25519": raw(self.agreement), "ed25519": raw(self.signing)}
        return json.dumps(obj) + "\n"

    def public(self, user: str, device: str) -> PublicIdentity:
        return PublicIdentity(
            user,
            device,
            _raw_public(self.agreement.public_key()),
            _raw_public(self.signing.public_key()),
        )

    def record(self, user: str, device: str, ts: datetime) -> bytes:
        """The signed public record of this device, to publish retained."""
        public = self.public(user, device)
        fields: dict[str, Any] = {
            "v": _RECORD_VERSION,
            "user": user,
            "device": device,
            "x25519": _b64(public.agreement),
            "ed25519": _b64(public.signing),
            "ts": format_ts(ts),
        }
        fields["sig"] = _b64(self.signing.sign(_signed_part(fields)))
        return json.dumps(fields, separators=(",", ":")).encode()


def verify_record(data: bytes, *, user: str, device: str) -> PublicIdentity:
    """The public identity in a record found on ``user``'s topic for ``device``.
    Raises :class:`KeyRecordError` for anything else: too large, not JSON, another
    version, another user or device than the topic says, keys of the wrong size, a
    signature that does not verify with the record's own Ed25519 key."""
    if len(data) > MAX_RECORD_BYTES:
        raise KeyRecordError(f"larger than {MAX_RECORD_BYTES} bytes")
    try:
        fields = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise KeyRecordError("not JSON") from None
    if not isinstance(fields, dict):
        raise KeyRecordError("not a JSON object")
    if fields.get("v") != _RECORD_VERSION:
        raise KeyRecordError(f"version {fields.get('v')!r}, not {_RECORD_VERSION}")
    try:
        if validate_user_name(str(fields.get("user"))) != user:
            raise KeyRecordError(f"made for {fields.get('user')!r}, found on {user!r}'s topic")
    except InvalidUserName:
        raise KeyRecordError("'user' is not a user name") from None
    if fields.get("device") != device:
        raise KeyRecordError(f"made for device {fields.get('device')!r}, not {device!r}")
    agreement, signing = (
        _unb64(fields.get("x25519"), "x25519"),
        _unb64(fields.get("ed25519"), "ed25519"),
    )
    if len(agreement) != _KEY_BYTES or len(signing) != _KEY_BYTES:
        raise KeyRecordError("a key is not 32 bytes")
    signature = _unb64(fields.get("sig"), "sig")
    try:
        Ed25519PublicKey.from_public_bytes(signing).verify(signature, _signed_part(fields))
    except (InvalidSignature, ValueError):
        raise KeyRecordError("the signature does not verify") from None
    return PublicIdentity(user, device, agreement, signing)
