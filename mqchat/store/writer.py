"""The chat's hot writes (storing messages, moving their states) as plain SQL on a
SQLite connection and a thread of their own.

Through SQLAlchemy's async engine every statement is several hops between the event
loop and aiosqlite's thread (cursor, execute, fetch, close, commit), about a
millisecond each on a busy machine: the cost of a sent or received message. Here a
whole transaction is one hop, so a message costs about what SQLite's commit costs.
The statements mirror :class:`~mqchat.store.chat_store.ChatStore`'s rules; the
ORM side keeps everything else (and reads)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store.convert import from_ms, message_values
from mqchat.store.database import StoreError, _set_pragmas
from mqchat.store.models import MessageRow

__all__ = ["Writer"]

T = TypeVar("T")

_COLUMNS = tuple(column.name for column in MessageRow.__table__.columns)
_INSERT = (
    f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (id) DO NOTHING"
)
_RETURNED = "id, conversation, direction, sender, recipient, ts_ms, body, state, claimed_ts_ms"
_MAX_VARIABLES = 900
"""Ids per ``IN (…)``, well under SQLite's oldest limit of 999 host parameters."""


def _message(row: tuple[Any, ...]) -> ChatMessage:
    mid, peer, direction, sender, recipient, ts_ms, body, state, claimed = row
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
    )


class Writer:
    """Transactions on one connection in one thread, in the order they were asked
    for. Errors of the file (full disk, read-only, damaged, locked past the busy
    timeout) leave as :class:`StoreError` naming it, with nothing of that
    transaction stored."""

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._thread: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # only ever used in that thread

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._thread is None:  # first use, or used again after close()
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqchat-store")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._conn is None:
                conn = sqlite3.connect(
                    self._path,
                    timeout=self._busy_timeout,
                    isolation_level=None,  # we say BEGIN and COMMIT ourselves
                    check_same_thread=False,
                )
                _set_pragmas(conn, None)
                self._conn = conn
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result
        except sqlite3.Error as exc:
            # Constraint and programming errors are mqchat's own (they keep their
            # type); these are the file's. Start again on a fresh connection: after a
            # failed COMMIT (a full disk) SQLite keeps the transaction open on it.
            self._disconnect()
            if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
                raise StoreError(f"{exc} ({self._path})") from exc
            raise

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    async def close(self) -> None:
        """Close the connection once what was asked for is done, and end the thread.
        Idempotent; a later call starts them again."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        await asyncio.get_running_loop().run_in_executor(thread, self._disconnect)
        thread.shutdown(wait=False)

    # -- the statements ---------------------------------------------------------

    async def insert(self, messages: Sequence[ChatMessage], *, received_at_ms: int) -> set[str]:
        """Store ``messages`` in one transaction; returns the ids that were new (an id
        already stored, or repeated in ``messages``, keeps its first version)."""
        rows = [
            tuple(values[c] for c in _COLUMNS)
            for values in (message_values(m, received_at_ms=received_at_ms) for m in messages)
        ]

        def work(conn: sqlite3.Connection) -> set[str]:
            new: set[str] = set()
            for row in rows:
                if conn.execute(_INSERT, row).rowcount == 1:
                    new.add(str(row[0]))
            return new

        return await self._run(work)

    async def advance(
        self,
        ids: Sequence[str],
        state: DeliveryState,
        *,
        out_from: Sequence[DeliveryState],
        in_from: Sequence[DeliveryState] = (),
        peer: str | None = None,
    ) -> list[ChatMessage]:
        """Move the messages ``ids`` to ``state`` in one transaction: outgoing ones
        only from ``out_from``, incoming ones only from ``in_from``, and with
        ``peer`` only messages of that conversation. Returns those changed, in the
        order of ``ids``."""
        unique = list(dict.fromkeys(ids))
        if not unique or not (out_from or in_from):
            return []
        allowed = [(Direction.OUT, out_from), (Direction.IN, in_from)]
        which = " OR ".join(
            f"(direction = '{d.value}' AND state IN ({', '.join(repr(s.value) for s in f)}))"
            for d, f in allowed
            if f
        )
        scope = "" if peer is None else " AND conversation = ?"

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            changed: list[tuple[Any, ...]] = []
            for start in range(0, len(unique), _MAX_VARIABLES):
                chunk = unique[start : start + _MAX_VARIABLES]
                sql = (
                    f"UPDATE messages SET state = ? WHERE id IN ({', '.join('?' * len(chunk))})"
                    f" AND ({which}){scope} RETURNING {_RETURNED}"
                )
                params = [state.value, *chunk, *([] if peer is None else [peer])]
                changed += conn.execute(sql, params).fetchall()
            return changed

        rows = await self._run(work)
        order = {mid: i for i, mid in enumerate(unique)}
        return sorted((_message(row) for row in rows), key=lambda m: order[m.id])
