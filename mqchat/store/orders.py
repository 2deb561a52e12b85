"""Query fragments on the messages table that several queries share: the order of
a conversation, and what "unread" means."""

from __future__ import annotations

from mqchat.core.model import DeliveryState, Direction
from mqchat.store.models import MessageRow

__all__ = ["NEWEST_FIRST", "OLDEST_FIRST", "UNREAD"]

NEWEST_FIRST = (MessageRow.ts_ms.desc(), MessageRow.id.desc())
OLDEST_FIRST = (MessageRow.ts_ms, MessageRow.id)
UNREAD = (
    MessageRow.direction == Direction.IN.value,
    MessageRow.state == DeliveryState.RECEIVED.value,
)
"""An incoming message not read yet."""
