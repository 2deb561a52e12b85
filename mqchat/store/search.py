"""Full-text search of the stored messages, on SQLite FTS5.

The index is the ``message_search`` table (made by :mod:`mqchat.store.database`):
an FTS5 index of ``messages.body`` that keeps no copy of the text (an "external
content" table on the messages' rowids; mqchat never deletes a message nor runs
VACUUM, and ``INSERT INTO message_search(message_search) VALUES ('rebuild')``
remakes it), filled by triggers as messages are stored. How the user's text
matches is :mod:`mqchat.core.search`'s rule; here it becomes an FTS5 query of quoted
prefix terms, so nothing the user types is ever read as FTS5 syntax.

Hits come newest first, which the index cannot give (it lists them by rowid), so
each search takes one of two ways, by how many messages match (counted first, in
the index alone):

* few: every hit is looked up and the newest ``limit`` kept; the cost grows with
  the number of hits (about 1 µs each);
* many (a common word): the messages are walked newest first on a (time, id)
  index until ``limit`` of them are in the set of hits; the cost grows with how
  far back that is, which is short when many match.

For 100,000 messages either stays under ~25 ms (``bench/search.py``)."""

from __future__ import annotations

from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mqchat.core.model import ChatMessage
from mqchat.core.search import search_words
from mqchat.store.convert import message_from_row, to_ms
from mqchat.store.models import MessageRow

__all__ = ["fts_query", "search_messages", "search_statement"]

_COUNT = text(
    "SELECT (SELECT count(*) FROM message_search WHERE message_search MATCH :query), "
    "(SELECT max(rowid) FROM messages)"
)
_HITS = "SELECT rowid FROM message_search WHERE message_search MATCH :query"


def fts_query(text: str) -> str | None:
    """The FTS5 query for the user's ``text``: each word a quoted prefix term
    (``"pizz"* "fri"*``, all of which must match), or ``None`` when the text has no
    word. Quoting makes every FTS5 operator (``NEAR``, ``AND``, ``-``, ``^``,
    ``:``) plain text, and the words hold no quote to escape."""
    words = search_words(text)
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def walks(hits: int, messages: int, limit: int) -> bool:
    """Whether walking the messages newest first beats looking up each of ``hits``
    (of about ``messages``): the walk reads ~``messages * limit / hits`` index
    entries at a fifth of a look-up's cost each, if the hits are spread evenly."""
    return hits * hits * 5 > messages * limit


def search_statement(
    *, peer: str | None, before: ChatMessage | None, limit: int, walk: bool
) -> TextClause:
    """The SQL of one search, newest first by (timestamp, id); its parameters are
    ``query`` and those of :func:`search_parameters`. The plans are spelt out
    (``INDEXED BY``, unary ``+``): SQLite's own choice for the peer's conversation,
    asking the FTS index about each message in turn, re-reads the whole list of
    hits every time (seconds for a common word)."""
    if walk:
        index = "ix_messages_ts" if peer is None else "ix_messages_conversation_ts"
        sql = f"SELECT m.* FROM messages AS m INDEXED BY {index} WHERE m.rowid IN ({_HITS})"
        if peer is not None:
            sql += " AND m.conversation = :peer"
    else:
        sql = (
            "SELECT m.* FROM message_search JOIN messages AS m "
            "ON m.rowid = message_search.rowid WHERE message_search MATCH :query"
        )
        if peer is not None:
            sql += " AND +m.conversation = :peer"
    if before is not None:
        sql += " AND (m.ts_ms, m.id) < (:before_ts, :before_id)"
    return text(sql + " ORDER BY m.ts_ms DESC, m.id DESC LIMIT :limit")


def search_parameters(
    *, peer: str | None, before: ChatMessage | None, limit: int
) -> dict[str, object]:
    values: dict[str, object] = {"limit": limit}
    if peer is not None:
        values["peer"] = peer
    if before is not None:
        values |= {"before_ts": to_ms(before.ts), "before_id": before.id}
    return values


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
    async with sessions() as session:
        hits, size = (await session.execute(_COUNT, {"query": query})).one()
        if hits == 0:
            return []
        walk = walks(hits, size or 0, limit)
        stmt = search_statement(peer=peer, before=before, limit=limit, walk=walk)
        values = {"query": query} | search_parameters(peer=peer, before=before, limit=limit)
        rows = (await session.scalars(select(MessageRow).from_statement(stmt), values)).all()
    return [message_from_row(row) for row in rows]
