"""The friends list's query: every contact with its unread count and last message,
in one statement whatever the number of contacts."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from mqchat.core.model import ContactStatus, ContactSummary
from mqchat.store.convert import contact_from_row, message_from_row
from mqchat.store.models import ContactRow, MessageRow
from mqchat.store.orders import NEWEST_FIRST, UNREAD

__all__ = ["contact_summaries"]


async def contact_summaries(
    sessions: async_sessionmaker[AsyncSession],
) -> list[ContactSummary]:
    """Every contact with its unread count and last message: ``incoming`` ones
    first (they wait for an answer), then by most recent activity, then contacts
    without messages by name. One query, whatever the number of contacts; each
    lookup is an index search."""
    last = aliased(MessageRow)
    last_id = (
        select(MessageRow.id)
        .where(MessageRow.conversation == ContactRow.user)
        .order_by(*NEWEST_FIRST)
        .limit(1)
        .correlate(ContactRow)
        .scalar_subquery()
    )
    unread = (
        select(func.count())
        .select_from(MessageRow)
        .where(MessageRow.conversation == ContactRow.user, *UNREAD)
        .correlate(ContactRow)
        .scalar_subquery()
    )
    stmt = (
        select(ContactRow, unread, last)
        .outerjoin(last, last.id == last_id)
        .order_by(
            case((ContactRow.status == ContactStatus.INCOMING.value, 0), else_=1),
            last.ts_ms.desc().nulls_last(),
            ContactRow.user.collate("NOCASE"),
            ContactRow.user,
        )
    )
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [
        ContactSummary(
            contact=contact_from_row(contact),
            unread=count,
            last_message=None if message is None else message_from_row(message),
        )
        for contact, count, message in rows
    ]
