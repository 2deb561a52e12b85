"""Full-text search of the stored messages, on SQLite FTS5.

The index is the ``message_search`` table (made by :mod:`mqchat.store.database`):
an FTS5 index of ``messages.body`` that keeps no copy of the text (an "external
content" table on the messages' rowids; mqchat never deletes a message nor runs
VACUUM, and ``INSERT INTO message_search(message_search) VALUES ('rebuild')``
remakes it), filled in batches (:mod:`mqchat.store.search_index`; a search first
indexes whatever is not yet). How the user's text
matches is :mod:`mqchat.core.search`'s rule; here it becomes an FTS5 query of quoted
prefix terms, so nothing the user types is ever read as FTS5 syntax.

Hits come newest first, which the index cannot give (it lists them by rowid), so a
search goes one of three ways:

1. **window**: the newest few thousand messages (of the conversation, before the
   cursor) are taken on a (time, id) index, and those among the hits kept; when
   that gives ``limit`` hits, they are the answer (anything outside the window is
   older). Cheap, and it answers every common word. Otherwise the hits are
   counted, in the index alone, and
2. **few** hits are each looked up and the newest ``limit`` kept (about 1 µs a hit);
3. **many** walk the messages newest first on the (time, id) index until ``limit``
   of them are in the set of hits (old hits of a word no longer used).

The plans are spelt out (``INDEXED BY``, unary ``+``): SQLite's own choice for a
peer's conversation, asking the FTS index about each message in turn, re-reads the
whole list of hits every time (seconds for a common word). ``bench/search.py``
times them on 100,000 messages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mqchat.core.model import ChatMessage
from mqchat.core.search import search_words
from mqchat.store.convert import message_from_row, to_ms
from mqchat.store.models import MessageRow

__all__ = ["fts_query", "search_messages", "search_statement", "walks"]

WINDOW_PER_HIT = 20
"""The window holds ``limit`` times this many messages: enough for any word in more
than one message in 20 of the conversation (fewer pay for a wider window)."""

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


def _conditions(peer: str | None, before: ChatMessage | None, *, unindexed: bool) -> str:
    sql = ""
    if peer is not None:
        sql += " AND +m.conversation = :peer" if unindexed else " AND m.conversation = :peer"
    if before is not None:
        sql += " AND (m.ts_ms, m.id) < (:before_ts, :before_id)"
    return sql


def search_statement(way: str, *, peer: str | None, before: ChatMessage | None) -> TextClause:
    """The SQL of one search (``way``: ``window``, ``few`` or ``many``), newest first
    by (timestamp, id); its parameters are ``query``, ``limit``, ``window`` and
    those of :func:`search_parameters`."""
    index = "ix_messages_ts" if peer is None else "ix_messages_conversation_ts"
    newest_first = " ORDER BY m.ts_ms DESC, m.id DESC"
    if way == "window":
        # ``w`` is used twice, so SQLite makes it once; the FTS index is read from
        # the window's lowest rowid on.
        sql = (
            "WITH w AS (SELECT m.rowid AS r, m.ts_ms, m.id FROM messages AS m "
            f"INDEXED BY {index} WHERE 1{_conditions(peer, before, unindexed=False)}"
            f"{newest_first} LIMIT :window) "
            "SELECT m.* FROM w JOIN messages AS m ON m.rowid = w.r "
            f"WHERE w.r IN ({_HITS} AND rowid >= (SELECT min(r) FROM w)) "
            "ORDER BY w.ts_ms DESC, w.id DESC"
        )
    elif way == "many":
        sql = (
            f"SELECT m.* FROM messages AS m INDEXED BY {index} WHERE m.rowid IN ({_HITS})"
            f"{_conditions(peer, before, unindexed=False)}{newest_first}"
        )
    else:
        sql = (
            "SELECT m.* FROM message_search JOIN messages AS m "
            "ON m.rowid = message_search.rowid WHERE message_search MATCH :query"
            f"{_conditions(peer, before, unindexed=True)}{newest_first}"
        )
    return text(sql + " LIMIT :limit")


def search_parameters(
    *, peer: str | None, before: ChatMessage | None, limit: int
) -> dict[str, object]:
    values: dict[str, object] = {"limit": limit, "window": limit * WINDOW_PER_HIT}
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
    values = {"query": query} | search_parameters(peer=peer, before=before, limit=limit)

    async def run(way: str) -> Sequence[MessageRow]:
        stmt = select(MessageRow).from_statement(search_statement(way, peer=peer, before=before))
        return (await session.scalars(stmt, values)).all()

    async with sessions() as session:
        rows = await run("window")
        if len(rows) < limit:
            hits, size = (await session.execute(_COUNT, {"query": query})).one()
            rows = await run("many" if walks(hits, size or 0, limit) else "few") if hits else []
    return [message_from_row(row) for row in rows]
