"""What every envelope carries (docs/protocol.md#common-fields), and the field
checks the decoders of :mod:`mqchat.core.envelope` and
:mod:`mqchat.core.room_envelopes` share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from mqchat.core.ids import new_message_id
from mqchat.core.model import utc_now
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.wire import EnvelopeError, to_millis

__all__ = ["MAX_ID_LENGTH", "Header", "fresh", "is_id", "text_body", "user_field"]

MAX_ID_LENGTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """The fields every envelope carries, whatever its type."""

    id: str
    """Unique per message: a QoS 1 redelivery carries the same one."""
    sender: str
    """``from`` on the wire: a user name (the inbound side checks it against the topic)."""
    recipient: str
    """``to`` on the wire: a user name."""
    ts: datetime
    """When the sender made it, as the sender's clock says (UTC)."""
    v: int = 1
    """The protocol version the sender speaks."""
    encrypted: bool = False
    """It came sealed (protocol v3) and was opened here: not a wire field."""


def fresh(sender: str, recipient: str, ts: datetime | None = None) -> dict[str, Any]:
    """The common fields of a new envelope: a new id, and ``ts`` (default now) at the
    wire's precision."""
    return {
        "id": new_message_id(),
        "sender": sender,
        "recipient": recipient,
        "ts": to_millis(ts or utc_now()),
    }


def is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


def user_field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise EnvelopeError(f"'{key}' is missing or not a string")
    try:
        return validate_user_name(value)
    except InvalidUserName as exc:
        raise EnvelopeError(f"'{key}': {exc}") from None


def text_body(obj: dict[str, Any]) -> str:
    body = obj.get("body")
    if not isinstance(body, str):
        raise EnvelopeError("'body' of a text message is missing or not a string")
    return body
