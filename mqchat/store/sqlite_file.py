"""The SQLite file itself: its errors, its permissions, the pragmas every connection
sets, and whether its schema is already the current one.

Nothing here imports SQLAlchemy: opening a history whose schema is current (every
start but the first and those after an upgrade) needs only this and plain
``sqlite3`` (see :class:`~mqchat.store.chat_store.ChatStore`)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from mqchat.config.private_files import PRIVATE_FILE_MODE, private_dir, private_file
from mqchat.store.faults import cannot_open

__all__ = [
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "StoreError",
    "StoreOpenError",
    "connect_now",
    "make_private",
    "open_if_current",
    "prepare_file",
    "set_pragmas",
]

SCHEMA_VERSION = 9
BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another connection's (or process's) write to finish."""


class StoreError(RuntimeError):
    """The database file could not be read or written (a full disk, a read-only or
    damaged file): SQLite's reason, with the file's path. Nothing of the failed call
    was stored."""


class StoreOpenError(StoreError):
    """The database file cannot be opened or used; the message names it and says why."""


class SchemaVersionError(StoreOpenError):
    """The database file has a schema this version of mqchat cannot use."""


def _enable_wal(cursor: Any, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch the file to WAL. On a new file another connection may hold the lock
    while it creates the schema, and SQLite does not apply the busy timeout to a
    journal-mode change, so wait for it here (in a worker thread, never the event
    loop's)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def set_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """What every connection to the file sets first (also a SQLAlchemy ``connect``
    event listener, hence the unused second argument)."""
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never block the writer, so the TUI and a headless
        # `mqchat send` can share the file. NORMAL is durable across app crashes
        # in WAL mode; only a power loss may drop the last commits.
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_private(path: Path) -> None:
    """The database file 0600 before SQLite opens it, created empty when missing:
    SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the database's mode,
    whatever the umask. Those an older mqchat left open to others are tightened."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(path.name + suffix), PRIVATE_FILE_MODE)


def prepare_file(path: Path, *, within: Path | None = None) -> None:
    """The file (made empty when missing) and SQLite's beside it 0600, its folder and
    ``within`` (the data folder above it) 0700, made so or tightened. Raises
    :class:`StoreOpenError` naming the file and the reason."""
    try:
        if within is not None:
            private_dir(within)
        private_dir(path.parent)
        make_private(path)
    except OSError as exc:
        raise StoreOpenError(cannot_open(path, exc)) from None


def connect_now(path: Path) -> sqlite3.Connection:
    """A connection for work on the event loop's thread: it never waits for a lock
    (``timeout=0``; see :class:`~mqchat.store.writer.Writer`), says BEGIN and COMMIT
    itself, and leaves checkpoints (which write and sync the file) to others."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    except BaseException:
        conn.close()
        raise
    return conn


def open_if_current(path: Path) -> sqlite3.Connection | None:
    """A :func:`connect_now` connection to ``path`` if it is a database in WAL mode
    with the current schema version, ready for use; ``None`` for anything else (a
    new empty file, an older or newer schema, a file SQLite cannot read): those go
    the long way, which creates, migrates or says what is wrong. Writes nothing."""
    try:
        conn = connect_now(path)
    except sqlite3.Error:
        return None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    except sqlite3.Error:
        version = journal = None
    if version == SCHEMA_VERSION and str(journal).lower() == "wal":
        return conn
    conn.close()
    return None
