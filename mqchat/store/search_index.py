"""Keeping the full-text index of the bodies (``message_search``, see
:mod:`mqchat.store.search`) up to date, in batches.

Since schema version 6, storing a message does not index it. A trigger per row
made every stored message cost twice what it costs without the index (FTS5 writes
a segment per transaction: ~60 µs a row on one commit each, ~3 µs a row in batches
of hundreds). Instead, ``meta`` holds the highest rowid indexed, and
:func:`catch_up` indexes every message above it in one transaction: the store runs
it about a second after it stored messages, and always before a search, so a
search sees every stored message, whoever stored it (a headless ``mqchat send``
included).

The triggers that remain keep the index right when a stored body changes or a row
goes, for rows already indexed only (a later catch-up indexes the others as they
are then). mqchat never runs VACUUM, which could renumber the rowids."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from mqchat.store.writer import Work, Writer

__all__ = ["INDEXED_KEY", "SEARCH_TRIGGERS", "SearchIndexer", "catch_up"]

INDEXED_KEY = "search_indexed_rowid"
"""The ``meta`` key: every message with a rowid up to its value is indexed."""
_INDEXED = f"(SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{INDEXED_KEY}')"

SEARCH_TRIGGERS = (
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages "
    f"WHEN old.rowid <= {_INDEXED} BEGIN "
    "INSERT INTO message_search (message_search, rowid, body) "
    "VALUES ('delete', old.rowid, old.body); END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF body ON messages "
    f"WHEN old.rowid <= {_INDEXED} BEGIN "
    "INSERT INTO message_search (message_search, rowid, body) "
    "VALUES ('delete', old.rowid, old.body); "
    "INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body); END",
)
"""Schema version 6's triggers (the migration from 5 and a new file make these)."""


def _marks(conn: sqlite3.Connection) -> tuple[int, int]:
    """(the highest rowid indexed, the highest stored)."""
    row = conn.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", (INDEXED_KEY,))
    indexed = (row.fetchone() or (0,))[0]
    newest = conn.execute("SELECT max(rowid) FROM messages").fetchone()[0] or 0
    return indexed, newest


_BEHIND = f"SELECT coalesce((SELECT max(rowid) FROM messages), 0) > coalesce({_INDEXED}, 0)"


def behind() -> Work[bool]:
    """Whether some stored message is not indexed yet (one read, no lock)."""
    return Work(lambda conn: bool(conn.execute(_BEHIND).fetchone()[0]), single=True)


def _catch_up(conn: sqlite3.Connection) -> int:
    indexed, newest = _marks(conn)
    if newest <= indexed:
        return 0
    conn.execute(
        "INSERT INTO message_search (rowid, body) "
        "SELECT rowid, body FROM messages WHERE rowid > ? AND rowid <= ?",
        (indexed, newest),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (INDEXED_KEY, str(newest)),
    )
    return newest - indexed


def catch_up() -> Work[int]:
    """Index every message stored since the last catch-up, in one transaction (the
    file's write lock makes two at once index nothing twice). Returns how many rowids
    it covered."""
    return Work(_catch_up, single=False)


class SearchIndexer:
    """Runs :func:`catch_up` about :data:`DELAY` seconds after messages were stored
    (one catch-up for everything stored meanwhile), and at once when asked."""

    DELAY = 1.0

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[int] | None = None

    def soon(self) -> None:
        """Messages were stored: index them in a while."""
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next search or close does it
            return
        self._timer = loop.call_later(self.DELAY, self._due)

    def _due(self) -> None:
        self._timer = None
        self._running = asyncio.ensure_future(self._writer.run(catch_up()))
        # A failure (a full disk) leaves the rows for the next catch-up; the write
        # that stored them said so already.
        self._running.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def now(self) -> None:
        """Index everything stored so far, before returning (a search). Takes the
        file's write lock only when there is something to index."""
        self._cancel()
        if await self._writer.run(behind()):
            await self._writer.run(catch_up())

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def close(self) -> None:
        """Index what is left if a catch-up was due (a failure is the next one's)."""
        due = self._timer is not None
        self._cancel()
        running, self._running = self._running, None
        with contextlib.suppress(Exception):
            if running is not None:
                await running
            if due:
                await self._writer.run(catch_up())
