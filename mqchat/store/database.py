"""Opening the SQLite file: one async engine per store, the pragmas every connection
needs, and the schema, versioned with ``PRAGMA user_version``.

The schema is created in one step and its version checked on open. Once it has to
evolve, Alembic migrations can take over from :func:`ensure_schema` (the version
number then becomes Alembic's revision)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mqchat.store.models import Base

__all__ = [
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "create_engine",
    "ensure_schema",
]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another connection's (or process's) write to finish."""


class SchemaVersionError(RuntimeError):
    """The database file has a schema this version of mqchat cannot use."""


def _enable_wal(cursor: Any, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch the file to WAL. On a new file another connection may hold the lock
    while it creates the schema, and SQLite does not apply the busy timeout to a
    journal-mode change, so wait for it here (in aiosqlite's thread, never the
    event loop's)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
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


def create_engine(path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S) -> AsyncEngine:
    """An engine on the SQLite file ``path`` (its folder must exist)."""
    url = URL.create("sqlite+aiosqlite", database=str(path))
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout})
    event.listen(engine.sync_engine, "connect", _set_pragmas)
    return engine


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the tables of a new file, or check that an existing one has the
    schema this code expects. Raises :class:`SchemaVersionError` otherwise."""
    async with engine.connect() as conn:
        # Take the write lock before looking, so two processes opening a new file
        # at once cannot both decide to create the tables.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        version = (await conn.exec_driver_sql("PRAGMA user_version")).scalar_one()
        if version == 0:
            await conn.run_sync(Base.metadata.create_all)
            await conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await conn.commit()
            return
        await conn.rollback()
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {version}, newer than this mqchat "
            f"understands ({SCHEMA_VERSION}); upgrade mqchat"
        )
    if version < SCHEMA_VERSION:  # pragma: no cover - no older schema exists yet
        raise SchemaVersionError(f"no migration from schema version {version}")
