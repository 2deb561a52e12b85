"""The store's statements written as plain SQL, run on its own connections
(:class:`~mqchat.store.writer.Writer`): everything opening a conversation, sending
and receiving touch.

Two reasons. Each one is a single hop (no pooled connection, cursor and fetch
hand-offs through aiosqlite's thread, about a millisecond each on a busy machine).
And none needs SQLAlchemy, whose import is a third of mqchat's start-up: the first
screen of ``mqchat chat PEER`` is drawn before it is loaded (see
:class:`~mqchat.store.chat_store.ChatStore`). The tables are still the ORM models'
(:mod:`mqchat.store.models`); the tests run the same checks on both sides."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from mqchat.core.edits import Change, Outcome, apply_change, judge
from mqchat.core.model import ChatMessage, Contact, ContactStatus, ContactSummary, DeliveryState
from mqchat.store.convert import (
    CONTACT_FIELDS,
    MESSAGE_FIELDS,
    contact_from_tuple,
    message_from_tuple,
    to_ms,
)
from mqchat.store.writer import Work

__all__ = [
    "add_contact",
    "change_message",
    "change_sent",
    "contact",
    "contact_summaries",
    "contacts",
    "device_id",
    "get_message",
    "mark_read",
    "outgoing_changes",
    "outgoing_in_state",
    "page",
    "unread_count",
]

_UNREAD = "direction = 'in' AND state = 'received'"
"""An incoming message not read yet."""
_NEWEST_FIRST = "ts_ms DESC, id DESC"
_OLDEST_FIRST = "ts_ms, id"


def page(
    peer: str, cursor: ChatMessage | None, limit: int, *, older: bool
) -> Work[list[ChatMessage]]:
    """``limit`` messages with ``peer`` next to ``cursor`` by (timestamp, id): older
    ones (or the newest page without a cursor) when ``older``, else newer ones (or
    the oldest page); oldest first either way. Keyset paging on the conversation's
    index: each page costs the same however deep it is."""
    where, params = "conversation = ?", list[object]([peer])
    if cursor is not None:
        # A row value comparison, which SQLite turns into a range on the index.
        where += f" AND (ts_ms, id) {'<' if older else '>'} (?, ?)"
        params += [to_ms(cursor.ts), cursor.id]
    order = _NEWEST_FIRST if older else _OLDEST_FIRST
    sql = f"SELECT {MESSAGE_FIELDS} FROM messages WHERE {where} ORDER BY {order} LIMIT ?"

    def work(conn: sqlite3.Connection) -> list[ChatMessage]:
        messages = [message_from_tuple(row) for row in conn.execute(sql, [*params, limit])]
        return messages[::-1] if older else messages

    return Work(work, single=True)


def get_message(message_id: str) -> Work[ChatMessage | None]:
    sql = f"SELECT {MESSAGE_FIELDS} FROM messages WHERE id = ?"

    def work(conn: sqlite3.Connection) -> ChatMessage | None:
        row = conn.execute(sql, (message_id,)).fetchone()
        return None if row is None else message_from_tuple(row)

    return Work(work, single=True)


def outgoing_in_state(state: DeliveryState, peer: str | None) -> Work[list[ChatMessage]]:
    """Outgoing messages in ``state`` (to ``peer`` only, if given), oldest first; not
    the deleted ones, which are never sent (again): their text is gone."""
    where, params = "direction = 'out' AND state = ? AND NOT deleted", [state.value]
    if peer is not None:
        where += " AND conversation = ?"
        params.append(peer)
    sql = f"SELECT {MESSAGE_FIELDS} FROM messages WHERE {where} ORDER BY {_OLDEST_FIRST}"
    return Work(
        lambda conn: [message_from_tuple(r) for r in conn.execute(sql, params)], single=True
    )


Publish = tuple[str, str, bytes]
"""A change of ours to publish: its envelope id, the peer, the envelope's bytes."""


def change_message(
    target: str, sender: str, body: str | None, at: datetime, publish: Publish | None
) -> Work[tuple[Outcome, ChatMessage | None]]:
    """``sender`` edits (to ``body``) or deletes (``body`` ``None``) the message
    ``target``, if :func:`~mqchat.core.edits.judge` allows it: the look and the
    change in one transaction, with (when applied) the envelope to ``publish`` kept
    in ``outgoing_changes``. Returns the outcome and the message as it is now
    (``None`` for an unknown one). A body already indexed for search is re-indexed
    by the ``message_search_update`` trigger; the others by the next catch-up."""
    select = f"SELECT {MESSAGE_FIELDS} FROM messages WHERE id = ?"
    update = "UPDATE messages SET body = ?, edited_at_ms = ?, deleted = ? WHERE id = ?"
    keep = "INSERT INTO outgoing_changes (id, peer, payload) VALUES (?, ?, ?)"
    change = Change.DELETE if body is None else Change.EDIT

    def work(conn: sqlite3.Connection) -> tuple[Outcome, ChatMessage | None]:
        row = conn.execute(select, (target,)).fetchone()
        message = None if row is None else message_from_tuple(row)
        outcome = judge(message, sender, change, at)
        if message is None or outcome is not Outcome.APPLIED:
            return outcome, message
        changed = apply_change(message, body, at)
        edited = None if changed.edited is None else to_ms(changed.edited)
        conn.execute(update, (changed.body, edited, changed.deleted, target))
        if publish is not None:
            conn.execute(keep, publish)
        return outcome, changed

    return Work(work, single=False)


def outgoing_changes() -> Work[list[Publish]]:
    """Our changes not yet acknowledged, oldest first."""
    sql = "SELECT id, peer, payload FROM outgoing_changes ORDER BY rowid"
    return Work(lambda conn: [(i, p, bytes(b)) for i, p, b in conn.execute(sql)], single=True)


def change_sent(change_id: str) -> Work[None]:
    sql = "DELETE FROM outgoing_changes WHERE id = ?"

    def work(conn: sqlite3.Connection) -> None:
        conn.execute(sql, (change_id,))

    return Work(work, single=True)


def mark_read(peer: str, up_to: ChatMessage | None) -> Work[list[str]]:
    """The unread messages from ``peer`` (up to ``up_to`` by (timestamp, id) when
    given) marked read; their ids, sorted."""
    where, params = f"conversation = ? AND {_UNREAD}", list[object]([peer])
    if up_to is not None:
        where += " AND (ts_ms, id) <= (?, ?)"
        params += [to_ms(up_to.ts), up_to.id]
    sql = f"UPDATE messages SET state = 'read' WHERE {where} RETURNING id"
    return Work(lambda conn: sorted(mid for (mid,) in conn.execute(sql, params)), single=True)


def unread_count(peer: str) -> Work[int]:
    sql = f"SELECT count(*) FROM messages WHERE conversation = ? AND {_UNREAD}"
    return Work(lambda conn: conn.execute(sql, (peer,)).fetchone()[0], single=True)


def contact(user: str) -> Work[Contact | None]:
    sql = f"SELECT {CONTACT_FIELDS} FROM contacts WHERE user = ?"

    def work(conn: sqlite3.Connection) -> Contact | None:
        row = conn.execute(sql, (user,)).fetchone()
        return None if row is None else contact_from_tuple(row)

    return Work(work, single=True)


def add_contact(
    user: str, display_name: str | None, status: ContactStatus, now_ms: int
) -> Work[Contact]:
    """``user`` added with ``status``; one already there keeps its status, and its
    display name unless ``display_name`` gives a new one."""
    sql = (
        "INSERT INTO contacts (user, display_name, added_at, status) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user) DO UPDATE "
        "SET display_name = coalesce(excluded.display_name, contacts.display_name) "
        f"RETURNING {CONTACT_FIELDS}"
    )
    params = (user, display_name, now_ms, status.value)
    return Work(lambda conn: contact_from_tuple(conn.execute(sql, params).fetchone()), single=True)


def contacts() -> Work[list[Contact]]:
    """All contacts by user name (case-insensitively)."""
    sql = f"SELECT {CONTACT_FIELDS} FROM contacts ORDER BY user COLLATE NOCASE, user"
    return Work(lambda conn: [contact_from_tuple(row) for row in conn.execute(sql)], True)


_SUMMARIES = f"""
SELECT c.user, c.display_name, c.added_at, c.status,
       (SELECT count(*) FROM messages
        WHERE conversation = c.user AND {_UNREAD}) AS unread,
       {", ".join(f"last.{field}" for field in MESSAGE_FIELDS.split(", "))}
FROM contacts AS c
LEFT OUTER JOIN messages AS last ON last.id = (
    SELECT id FROM messages WHERE conversation = c.user ORDER BY {_NEWEST_FIRST} LIMIT 1
)
ORDER BY CASE WHEN c.status = 'incoming' THEN 0 ELSE 1 END,
         last.ts_ms DESC NULLS LAST, c.user COLLATE NOCASE, c.user
"""


def contact_summaries() -> Work[list[ContactSummary]]:
    """Every contact with its unread count and last message: ``incoming`` ones first
    (they wait for an answer), then by most recent activity, then contacts without
    messages by name. One query, whatever the number of contacts; each lookup is an
    index search."""

    def work(conn: sqlite3.Connection) -> list[ContactSummary]:
        return [
            ContactSummary(
                contact=contact_from_tuple(row[:4]),
                unread=row[4],
                last_message=None if row[5] is None else message_from_tuple(row[5:]),
            )
            for row in conn.execute(_SUMMARIES)
        ]

    return Work(work, single=True)


def device_id(key: str, new: str) -> Work[str]:
    """The value of ``key`` in ``meta``, set to ``new`` first if it has none: whoever
    inserts first wins, everyone then reads the winner's value."""

    def work(conn: sqlite3.Connection) -> str:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, new)
        )
        value: str = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]
        return value

    return Work(work, single=False)
