"""Sealed chat envelopes (protocol v3) in the inspector: telling one apart, and
opening the selected one, on demand, with a callable the chat app lends.

The inspector never holds keys and never imports the chat: inside the chat app it
gets ``unseal(topic, payload)`` (the chat backend's), standalone it gets nothing and
can only say that a payload is sealed. Opening happens for the one message on screen
when its decrypted view is asked for, never while messages are ingested, and at most
once per message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mqchat.core.envelope import Sealed, parse_envelope
from mqchat.inspector.capture import Captured

__all__ = ["DECRYPTED_LABEL", "NOT_FOR_US", "SealedReader", "Sealing", "Unseal", "is_sealed"]

log = logging.getLogger(__name__)

Unseal = Callable[[str, bytes], bytes | None]
"""``unseal(topic, payload)``: the inner envelope of a sealed payload seen on
``topic``, opened with this device's keys, or ``None`` when it cannot be."""

DECRYPTED_LABEL = "decrypted here with this device's keys (not what the broker saw)"
NOT_FOR_US = "sealed: not for this device"


def is_sealed(payload: bytes, *, size: int | None = None) -> bool:
    """Whether ``payload`` is a whole, well-formed sealed chat envelope. A payload the
    capture cut (``size`` larger than what was kept) never is: it cannot be opened."""
    if size is not None and size > len(payload):
        return False
    if b'"sealed"' not in payload:  # the quick no, for nearly every payload
        return False
    try:
        return isinstance(parse_envelope(payload, max_size=len(payload)), Sealed)
    except (ValueError, RecursionError):  # EnvelopeError is a ValueError
        return False


@dataclass(frozen=True, slots=True)
class Sealing:
    """What the detail pane knows of a sealed message: whether this inspector can
    try to open it (``can_open``: it runs in the chat), whether it ``tried``, and the
    ``inner`` envelope it got (``None``: not for this device)."""

    can_open: bool
    tried: bool = False
    inner: bytes | None = None


class SealedReader:
    """The sealed state of the message on screen, remembered for that one message so
    that the 10 Hz redraw neither parses nor decrypts it again."""

    def __init__(self, unseal: Unseal | None) -> None:
        self.unseal = unseal
        self._message: Captured | None = None
        self._state: Sealing | None = None

    def state(self, message: Captured, *, open_it: bool) -> Sealing | None:
        """``None`` when ``message`` is not sealed; else what is known of it, opening it
        first when ``open_it`` and it was not tried yet."""
        if message is not self._message:
            self._message = message
            sealed = is_sealed(message.payload, size=message.size)
            self._state = Sealing(can_open=self.unseal is not None) if sealed else None
        state = self._state
        if state is None or not open_it or not state.can_open or state.tried:
            return state
        self._state = state = Sealing(True, True, self._open(message))
        return state

    def forget(self) -> None:
        """Drop the remembered message (the capture was cleared)."""
        self._message = self._state = None

    def _open(self, message: Captured) -> bytes | None:
        assert self.unseal is not None
        try:
            return self.unseal(message.topic, message.payload)
        except Exception:  # a fault of the chat's must not end the inspector
            log.warning("opening a sealed message failed", exc_info=True)
            return None
