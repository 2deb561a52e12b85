"""The SQLAlchemy side of the SQLite file: one async engine per store, and the
schema, versioned with ``PRAGMA user_version`` (the file itself, its permissions and
pragmas: :mod:`mqchat.store.sqlite_file`).

A new file gets the current schema in one step; an older file is brought up to it in
place by the steps in ``_MIGRATIONS``, under the same write lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mqchat.store.faults import is_file_fault, with_remedy
from mqchat.store.models import Base
from mqchat.store.search_index import INDEXED_KEY, SEARCH_TRIGGERS
from mqchat.store.sqlite_file import (
    BUSY_TIMEOUT_S,
    SCHEMA_VERSION,
    SchemaVersionError,
    StoreError,
    StoreOpenError,
    prepare_file,
    set_pragmas,
)

__all__ = [
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "StoreError",
    "StoreOpenError",
    "create_engine",
    "ensure_schema",
    "open_engine",
]


def _as_store_error(path: Path) -> Any:
    def translate(context: Any) -> None:
        exc = context.original_exception
        # Constraint and programming errors are mqchat's own business; these are the
        # file's (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_NOTADB, locks).
        if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
            # Close this connection rather than pool it: after a failed COMMIT (a full
            # disk) SQLite keeps the transaction, and its lock, open on it.
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False
            raise StoreError(with_remedy(f"{exc} ({path})", exc)) from exc

    return translate


def create_engine(path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S) -> AsyncEngine:
    """An engine on the SQLite file ``path`` (its folder must exist)."""
    url = URL.create("sqlite+aiosqlite", database=str(path))
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout})
    event.listen(engine.sync_engine, "connect", set_pragmas)
    event.listen(engine.sync_engine, "handle_error", _as_store_error(path))
    return engine


_SEARCH_TABLE = (
    "CREATE VIRTUAL TABLE message_search USING fts5(body, content='messages', "
    "tokenize='unicode61 remove_diacritics 2')"
)
"""Full-text search (:mod:`mqchat.store.search`): an FTS5 index of the bodies that
keeps no copy of them. Not an ORM model: a new file gets it after ``create_all``,
with the triggers and the high-water mark of :mod:`mqchat.store.search_index`."""

_SEARCH_INDEX_V5 = (
    _SEARCH_TABLE,
    "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body); END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO message_search (message_search, rowid, body) "
    "VALUES ('delete', old.rowid, old.body); END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO message_search (message_search, rowid, body) "
    "VALUES ('delete', old.rowid, old.body); "
    "INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body); END",
    "INSERT INTO message_search (message_search) VALUES ('rebuild')",
)
"""The index as schema version 5 made it: filled by a trigger on every insert."""

_INDEXED_UP_TO_NOW = (
    f"INSERT OR REPLACE INTO meta (key, value) SELECT '{INDEXED_KEY}', "
    "CAST(coalesce(max(rowid), 0) AS TEXT) FROM messages"
)

# The SQL that takes a file from the version before each key to the key. Written out
# rather than derived from the models, so a step keeps doing what it did when later
# versions change the tables again; the result must match what create_all makes now.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE contacts ADD COLUMN status TEXT NOT NULL DEFAULT 'friend' "
        "CONSTRAINT ck_contacts_status CHECK (status IN ('friend', 'requested', 'incoming'))",
        "ALTER TABLE contacts ADD COLUMN request_sent_ms BIGINT",
        "CREATE TABLE meta (key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key))",
    ),
    3: ("ALTER TABLE messages ADD COLUMN claimed_ts_ms BIGINT",),
    4: (
        "CREATE TABLE dismissed (user VARCHAR NOT NULL, until_ms BIGINT NOT NULL, "
        "blocked BOOLEAN NOT NULL, PRIMARY KEY (user))",
    ),
    5: (
        "CREATE INDEX ix_messages_ts ON messages (ts_ms, id)",
        "CREATE INDEX ix_messages_conversation_state ON messages (conversation, direction, state)",
        *_SEARCH_INDEX_V5,
    ),
    6: (
        # Indexed in batches (store/search_index.py), no longer row by row.
        "DROP TRIGGER message_search_insert",
        "DROP TRIGGER message_search_delete",
        "DROP TRIGGER message_search_update",
        *SEARCH_TRIGGERS,
        _INDEXED_UP_TO_NOW,
    ),
    7: (
        # Protocol v2's edits and deletes (core/edits.py).
        "ALTER TABLE messages ADD COLUMN edited_at_ms BIGINT",
        "ALTER TABLE messages ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT 0",
        "CREATE TABLE outgoing_changes (id VARCHAR NOT NULL, peer VARCHAR NOT NULL, "
        "payload BLOB NOT NULL, PRIMARY KEY (id))",
    ),
    8: (
        # Protocol v2's rooms (core/rooms.py).
        "CREATE TABLE rooms (id VARCHAR NOT NULL, name TEXT NOT NULL, members TEXT NOT NULL, "
        "admins TEXT NOT NULL, version BIGINT NOT NULL, joined BOOLEAN NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE room_receipts (message_id VARCHAR NOT NULL, member VARCHAR NOT NULL, "
        "state VARCHAR NOT NULL, PRIMARY KEY (message_id, member))",
    ),
    9: (
        # Protocol v3's end-to-end encryption (chat/encryption.py).
        "ALTER TABLE messages ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT 0",
        "CREATE TABLE peer_keys (user VARCHAR NOT NULL, device VARCHAR NOT NULL, "
        "x25519 BLOB NOT NULL, ed25519 BLOB NOT NULL, seen_ms BIGINT NOT NULL, "
        "PRIMARY KEY (user, device))",
        "CREATE TABLE peer_trust (user VARCHAR NOT NULL, sealed BOOLEAN NOT NULL, "
        "verified BLOB, changed_ms BIGINT, PRIMARY KEY (user))",
    ),
}


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the tables of a new file, migrate an older one to
    :data:`SCHEMA_VERSION`, or check that an existing one already has it. Raises
    :class:`SchemaVersionError` for a file newer than this code or one it has no
    migration for."""
    async with engine.connect() as conn:
        # Take the write lock before looking, so two processes opening a new (or an
        # old) file at once cannot both create (or migrate) it: the second sees the
        # version the first one left.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        version = (await conn.exec_driver_sql("PRAGMA user_version")).scalar_one()
        steps = range(version + 1, SCHEMA_VERSION + 1)
        if version == 0:
            await conn.run_sync(Base.metadata.create_all)
            for sql in (_SEARCH_TABLE, *SEARCH_TRIGGERS, _INDEXED_UP_TO_NOW):
                await conn.exec_driver_sql(sql)
        elif version > SCHEMA_VERSION:
            await conn.rollback()
            raise SchemaVersionError(
                f"the database has schema version {version}, newer than this mqchat "
                f"understands ({SCHEMA_VERSION}); upgrade mqchat"
            )
        elif any(step not in _MIGRATIONS for step in steps):
            await conn.rollback()
            raise SchemaVersionError(f"no migration from schema version {version}")
        else:
            for step in steps:
                for sql in _MIGRATIONS[step]:
                    await conn.exec_driver_sql(sql)
        if version != SCHEMA_VERSION:
            await conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await conn.commit()


async def open_engine(
    path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S, within: Path | None = None
) -> AsyncEngine:
    """An engine on ``path`` with the current schema (:func:`ensure_schema`), only its
    owner may read: the file (and SQLite's beside it) 0600, its folder and
    ``within`` (the data folder above it) 0700, made so or tightened. Raises
    :class:`StoreOpenError` naming the file and the reason."""
    prepare_file(path, within=within)
    engine = create_engine(path, busy_timeout=busy_timeout)
    try:
        await ensure_schema(engine)
    except StoreOpenError:
        await engine.dispose()
        raise
    except StoreError as exc:  # the file's own trouble, translated on the way
        await engine.dispose()
        cause = exc.__cause__
        if cause is not None and not is_file_fault(cause):
            raise  # a failed migration: the file is fine, mqchat is not
        reason = cause or exc
        line = f"cannot use the history {path}: {reason}"
        raise StoreOpenError(with_remedy(line, reason)) from None
    except DatabaseError as exc:
        await engine.dispose()
        # Not a database, or not one SQLite can open; a failed migration (another
        # OperationalError) is a bug, and keeps its traceback.
        if not isinstance(exc, OperationalError) or "unable to open" in str(exc.orig):
            line = f"cannot use the history {path}: {exc.orig}"
            raise StoreOpenError(with_remedy(line, exc.orig or exc)) from None
        raise
    except BaseException:
        await engine.dispose()
        raise
    return engine
