"""Full-text search of the stored messages, on SQLite FTS5.

The index is the ``message_search`` table (made by :mod:`mqchat.store.database`):
an FTS5 index of ``messages.body`` that keeps no copy of the text (an
"external content" table keyed by the messages' rowid, which SQLite keeps as long
as no row is deleted and rebuilds with the table only on VACUUM, which keeps
rowids), filled by triggers as messages are stored. How the user's text matches is
:mod:`mqchat.core.search`'s rule; here it becomes an FTS5 query of quoted prefix
terms, so nothing the user types is ever read as FTS5 syntax."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, column, literal_column, select, table, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mqchat.core.model import ChatMessage
from mqchat.core.search import search_words
from mqchat.store.convert import message_from_row, to_ms
from mqchat.store.models import MessageRow

__all__ = ["fts_query", "search_messages"]

_INDEX = table("message_search", column("rowid"))
_MESSAGE_ROWID: ColumnElement[int] = literal_column("messages.rowid")
_UNINDEXED_CONVERSATION: ColumnElement[str] = literal_column("+messages.conversation")


def fts_query(text: str) -> str | None:
    """The FTS5 query for the user's ``text``: each word a quoted prefix term
    (``"pizz"* "fri"*``, all of which must match), or ``None`` when the text has no
    word. Quoting makes every FTS5 operator (``NEAR``, ``AND``, ``-``, ``^``,
    ``:``) plain text, and the words hold no quote to escape."""
    words = search_words(text)
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def search_statement(
    query: str, *, peer: str | None, before: ChatMessage | None, limit: int
) -> Select[MessageRow]:
    """Hits of the FTS5 ``query``, newest first by (timestamp, id)."""
    stmt = (
        select(MessageRow)
        .select_from(_INDEX)
        .join(MessageRow, _INDEX.c.rowid == _MESSAGE_ROWID)
        .where(literal_column("message_search").op("MATCH")(query))
    )
    if peer is not None:
        # Unary + keeps SQLite off the conversation index: walking a conversation and
        # asking the index about each message re-reads the word's whole list each time
        # (seconds for a common word); the index's hits first, then filtered, is fast.
        stmt = stmt.where(_UNINDEXED_CONVERSATION.op("=")(peer))
    if before is not None:
        cursor = tuple_(MessageRow.ts_ms, MessageRow.id) < tuple_(to_ms(before.ts), before.id)
        stmt = stmt.where(cursor)
    return stmt.order_by(MessageRow.ts_ms.desc(), MessageRow.id.desc()).limit(limit)


async def search_messages(
    sessions: async_sessionmaker[AsyncSession],
    text: str,
    *,
    peer: str | None = None,
    before: ChatMessage | None = None,
    limit: int = 50,
) -> list[ChatMessage]:
    """See :meth:`mqchat.store.ChatStore.search`."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    query = fts_query(text)
    if query is None:
        return []
    stmt = search_statement(query, peer=peer, before=before, limit=limit)
    async with sessions() as session:
        rows = (await session.scalars(stmt)).all()
    return [message_from_row(row) for row in rows]
