"""Conversions between store rows and the frozen domain dataclasses, and between
tz-aware datetimes and the integer UTC milliseconds the tables hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mqchat.core.model import ChatMessage, Contact, ContactStatus, DeliveryState, Direction

if TYPE_CHECKING:  # the ORM is loaded only when a query needs it (see ChatStore)
    from mqchat.store.models import ContactRow, MessageRow

__all__ = [
    "CONTACT_FIELDS",
    "MESSAGE_COLUMNS",
    "MESSAGE_FIELDS",
    "contact_from_row",
    "contact_from_tuple",
    "from_ms",
    "message_from_row",
    "message_from_tuple",
    "message_values",
    "to_ms",
]

MESSAGE_COLUMNS = (
    "id",
    "conversation",
    "direction",
    "sender",
    "recipient",
    "ts_ms",
    "body",
    "state",
    "received_at_ms",
    "claimed_ts_ms",
    "edited_at_ms",
    "deleted",
    "sealed",
)
"""The columns of the ``messages`` table, in the model's order (a test holds them
to :class:`~mqchat.store.models.MessageRow`), for SQL written without the ORM."""
MESSAGE_FIELDS = (
    "id, conversation, direction, sender, recipient, ts_ms, body, state, claimed_ts_ms, "
    "edited_at_ms, deleted, sealed"
)
"""What plain SQL selects of a message for :func:`message_from_tuple`."""
CONTACT_FIELDS = "user, display_name, added_at, status"
"""What plain SQL selects of a contact for :func:`contact_from_tuple`."""
_MESSAGE_FIELD_NAMES = MESSAGE_FIELDS.split(", ")
_CONTACT_FIELD_NAMES = CONTACT_FIELDS.split(", ")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch, truncated (the wire format carries no more). A
    naive datetime is taken as UTC, as :func:`mqchat.core.wire.parse_ts` does."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    # Integer arithmetic: ts.timestamp() * 1000 is a float and can be off by one.
    return (ts - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def message_values(msg: ChatMessage, *, received_at_ms: int) -> dict[str, object]:
    """The column values of ``msg``, ready for an INSERT."""
    return {
        "id": msg.id,
        "conversation": msg.peer,
        "direction": msg.direction.value,
        "sender": msg.sender,
        "recipient": msg.recipient,
        "ts_ms": to_ms(msg.ts),
        "body": msg.body,
        "state": msg.state.value,
        "received_at_ms": received_at_ms,
        "claimed_ts_ms": None if msg.claimed_ts is None else to_ms(msg.claimed_ts),
        "edited_at_ms": None if msg.edited is None else to_ms(msg.edited),
        "deleted": msg.deleted,
        "sealed": msg.sealed,
    }


def message_from_row(row: MessageRow) -> ChatMessage:
    return message_from_tuple(tuple(getattr(row, f) for f in _MESSAGE_FIELD_NAMES))


def contact_from_row(row: ContactRow) -> Contact:
    return contact_from_tuple(tuple(getattr(row, f) for f in _CONTACT_FIELD_NAMES))


def message_from_tuple(row: tuple[Any, ...]) -> ChatMessage:
    """A message from the columns of :data:`MESSAGE_FIELDS`, in that order."""
    mid, peer, direction, sender, recipient, ts_ms, body, state, claimed, edited, *flags = row
    deleted, sealed = flags
    return ChatMessage(
        id=mid,
        peer=peer,
        direction=Direction(direction),
        sender=sender,
        recipient=recipient,
        ts=from_ms(ts_ms),
        body=body,
        state=DeliveryState(state),
        claimed_ts=None if claimed is None else from_ms(claimed),
        edited=None if edited is None else from_ms(edited),
        deleted=bool(deleted),
        sealed=bool(sealed),
    )


def contact_from_tuple(row: tuple[Any, ...]) -> Contact:
    """A contact from the columns of :data:`CONTACT_FIELDS`, in that order."""
    user, display_name, added_at, status = row
    return Contact(
        user=user,
        display_name=display_name,
        added_at=from_ms(added_at),
        status=ContactStatus(status),
    )
