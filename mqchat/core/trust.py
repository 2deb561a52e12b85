"""Where a peer's end-to-end encryption keys stand, as the chat shows it (protocol
v3): how many devices have keys, whether they have sent us anything sealed (from
then on nothing in plain text is taken from them), whether the user verified the
keys, and whether they changed since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["KeyTrust"]


@dataclass(frozen=True, slots=True)
class KeyTrust:
    user: str
    devices: int = 0
    """Devices of theirs with keys: what we send them is sealed when this is not 0."""
    sealed: bool = False
    """They have sent us something sealed: plain text from them is refused."""
    verified: bool = False
    """The user compared safety numbers and marked these very keys verified."""
    changed: datetime | None = None
    """Their keys changed at this time (a new device, or new keys), not verified since."""

    @property
    def encrypted(self) -> bool:
        return self.devices > 0
