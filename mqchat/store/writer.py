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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store.convert import (
    MESSAGE_COLUMNS,
    MESSAGE_FIELDS,
    message_from_tuple,
    message_values,
)
from mqchat.store.sqlite_file import StoreError, connect_now, set_pragmas

__all__ = ["MAX_VARIABLES", "Work", "Writer", "in_chunks"]

T = TypeVar("T")

_COLUMNS = MESSAGE_COLUMNS
_CHECKPOINT_EVERY = 200
"""Transactions on the loop's connection between two checkpoints in the thread."""
MAX_VARIABLES = 900
"""Ids per ``IN (…)``, well under SQLite's oldest limit of 999 host parameters."""


def in_chunks(ids: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """``ids`` without repeats, :data:`MAX_VARIABLES` at a time, each chunk with its
    ``?, ?, …`` for an ``IN (…)``."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), MAX_VARIABLES):
        chunk = unique[start : start + MAX_VARIABLES]
        yield chunk, ", ".join("?" * len(chunk))


def _busy(exc: sqlite3.OperationalError) -> bool:
    return (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@dataclass(frozen=True, slots=True)
class Work(Generic[T]):
    """What a transaction does; ``single``: it is one statement, which SQLite makes
    a transaction of by itself (no BEGIN and COMMIT to pay for)."""

    run: Callable[[sqlite3.Connection], T]
    single: bool


def _in_transaction(conn: sqlite3.Connection, work: Work[T]) -> T:
    if work.single:
        return work.run(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work.run(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _inserting(messages: Sequence[ChatMessage], received_at_ms: int) -> Work[set[str]]:
    rows = [
        tuple(values[c] for c in _COLUMNS)
        for values in (message_values(m, received_at_ms=received_at_ms) for m in messages)
    ]
    per_statement = MAX_VARIABLES // len(_COLUMNS)
    one_row = f"({', '.join('?' * len(_COLUMNS))})"

    def work(conn: sqlite3.Connection) -> set[str]:
        new: set[str] = set()
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO messages ({', '.join(_COLUMNS)}) "
                f"VALUES {', '.join([one_row] * len(chunk))} "
                "ON CONFLICT (id) DO NOTHING RETURNING id"
            )
            new.update(mid for (mid,) in conn.execute(sql, [v for row in chunk for v in row]))
        return new

    return Work(work, single=len(rows) <= per_statement)


class _Busy(Exception):
    """Another connection holds the write lock: nothing was done."""


class Writer:
    """Transactions in the order they were asked for. Errors of the file (full disk,
    read-only, damaged, locked past the busy timeout) leave as :class:`StoreError`
    naming it, with nothing of that transaction stored.

    A transaction runs right away on the event loop's thread when the file's write
    lock is free (SQLite's commit in WAL mode without fsync: tens of microseconds),
    and otherwise on a thread of its own that waits for the lock up to the busy
    timeout, so the loop never waits for another writer. Handing work to a thread
    costs more than the work itself here: with the GIL, each hand-over can wait for
    the other thread's Python code."""

    def __init__(
        self, path: Path, *, busy_timeout: float, inline: sqlite3.Connection | None = None
    ) -> None:
        """``inline``: a :func:`~mqchat.store.sqlite_file.connect_now` connection to
        ``path`` to start with (one is made when needed)."""
        self._path = path
        self._busy_timeout = busy_timeout
        self._inline = inline  # the loop's, never waits
        self._thread: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # only ever used in that thread
        self._commits = 0

    async def run(self, work: Work[T]) -> T:
        """``work`` in a transaction: at once on the loop's connection when the file
        is free, else waiting for it in the thread."""
        try:
            return self._now(work)
        except _Busy:
            pass
        return await self._in_thread(self._transaction, work)

    def _pool(self) -> ThreadPoolExecutor:
        if self._thread is None:  # first use, or used again after close()
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqchat-store")
        return self._thread

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool(), call, *args)

    def _now(self, work: Work[T]) -> T:
        """``work`` in a transaction on the loop's connection, or :class:`_Busy`."""
        try:
            if self._inline is None:
                # The file is in WAL mode already (the engine made it so).
                self._inline = connect_now(self._path)
            result = _in_transaction(self._inline, work)
        except sqlite3.Error as exc:
            self._inline = self._closed(self._inline)
            if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
                raise _Busy from exc  # rolled back: the thread does it, waiting
            raise self._translated(exc) from exc
        self._checkpoint_soon()
        return result

    def _checkpoint_soon(self) -> None:
        self._commits += 1
        if self._commits % _CHECKPOINT_EVERY == 0:
            # Not awaited: a checkpoint waits for nobody (PASSIVE) and its failure
            # only leaves the WAL longer until the next one.
            self._pool().submit(self._checkpoint)

    def _checkpoint(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout,
                isolation_level=None,  # we say BEGIN and COMMIT ourselves
                check_same_thread=False,
            )
            set_pragmas(conn)
            self._conn = conn
        return self._conn

    def _transaction(self, work: Work[T]) -> T:
        """``work`` in a transaction on the thread's connection, waiting for the lock."""
        try:
            return _in_transaction(self._connection(), work)
        except sqlite3.Error as exc:
            self._conn = self._closed(self._conn)
            raise self._translated(exc) from exc

    def _translated(self, exc: sqlite3.Error) -> Exception:
        """Constraint and programming errors are mqchat's own (they keep their type);
        the others are the file's, and name it."""
        if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
            return StoreError(f"{exc} ({self._path})")
        return exc

    @staticmethod
    def _closed(conn: sqlite3.Connection | None) -> None:
        """Close a connection after an error, so the next call starts afresh: after a
        failed COMMIT (a full disk) SQLite keeps the transaction open on it."""
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _disconnect(self) -> None:
        self._conn = self._closed(self._conn)

    async def close(self) -> None:
        """Close the connections once what was asked for is done, and end the thread.
        Idempotent; a later call starts them again."""
        self._inline = self._closed(self._inline)
        thread, self._thread = self._thread, None
        if thread is None:
            return
        await asyncio.get_running_loop().run_in_executor(thread, self._disconnect)
        thread.shutdown(wait=False)

    # -- the statements ---------------------------------------------------------

    async def insert(self, messages: Sequence[ChatMessage], *, received_at_ms: int) -> set[str]:
        """Store ``messages`` in one transaction; returns the ids that were new (an id
        already stored, or repeated in ``messages``, keeps its first version)."""
        return await self.run(_inserting(messages, received_at_ms))

    def insert_now(
        self, messages: Sequence[ChatMessage], *, received_at_ms: int
    ) -> set[str] | None:
        """:meth:`insert` if it can be done without waiting for another writer, else
        ``None`` and nothing stored."""
        try:
            return self._now(_inserting(messages, received_at_ms))
        except _Busy:
            return None

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
            for chunk, marks in in_chunks(unique):
                sql = (
                    f"UPDATE messages SET state = ? WHERE id IN ({marks})"
                    f" AND ({which}){scope} RETURNING {MESSAGE_FIELDS}"
                )
                params = [state.value, *chunk, *([] if peer is None else [peer])]
                changed += conn.execute(sql, params).fetchall()
            return changed

        rows = await self.run(Work(work, single=len(unique) <= MAX_VARIABLES))
        order = {mid: i for i, mid in enumerate(unique)}
        return sorted((message_from_tuple(row) for row in rows), key=lambda m: order[m.id])
