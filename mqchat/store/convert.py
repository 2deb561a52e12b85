"""Conversions between store rows and the frozen domain dataclasses, and between
tz-aware datetimes and the integer UTC milliseconds the tables hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mqchat.core.model import ChatMessage, Contact, ContactStatus, DeliveryState, Direction
from mqchat.store.models import ContactRow, MessageRow

__all__ = ["contact_from_row", "from_ms", "message_from_row", "message_values", "to_ms"]

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
    }


def message_from_row(row: MessageRow) -> ChatMessage:
    return ChatMessage(
        id=row.id,
        peer=row.conversation,
        direction=Direction(row.direction),
        sender=row.sender,
        recipient=row.recipient,
        ts=from_ms(row.ts_ms),
        body=row.body,
        state=DeliveryState(row.state),
        claimed_ts=None if row.claimed_ts_ms is None else from_ms(row.claimed_ts_ms),
    )


def contact_from_row(row: ContactRow) -> Contact:
    return Contact(
        user=row.user,
        display_name=row.display_name,
        added_at=from_ms(row.added_at),
        status=ContactStatus(row.status),
    )
