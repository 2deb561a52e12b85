"""What end-to-end encryption's users share (chat/encryption.py): where a device keeps
its keys, what a verification is of, and how an envelope is refused or put aside."""

from __future__ import annotations

import enum
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mqchat.crypto.identity import PublicIdentity

__all__ = ["WAIT", "Refused", "Wait", "identity_path", "keys_digest"]


def identity_path(database: Path) -> Path:
    """Where a device keeps its keys: beside its history, ``alice.keys``."""
    return database.with_suffix(".keys")


def keys_digest(keys: dict[str, PublicIdentity]) -> bytes:
    """What a verification is of: all of a user's device signing keys."""
    return hashlib.sha256(b"".join(sorted(k.signing for k in keys.values()))).digest()


class Wait(enum.Enum):
    """What :meth:`Encryption.unwrap` says of a message to try again when keys come."""

    WAIT = "wait"


WAIT = Wait.WAIT


class Refused(Exception):
    """An envelope that must not be taken: the text says why, for the warning.
    ``quiet``: no alarm, only counted (sealed for other devices, as a friend request
    left for us before our keys changed: not for us, not an attack)."""

    def __init__(self, reason: str, *, quiet: bool = False) -> None:
        super().__init__(reason)
        self.quiet = quiet
