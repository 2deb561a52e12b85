"""Opening a database written by an older mqchat: the schema is migrated in place and
nothing stored is lost."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState, Direction
from mqchat.store import ChatStore, SchemaVersionError, StoreError
from mqchat.store.database import _MIGRATIONS, SCHEMA_VERSION

# The schema of version 1 exactly as mqchat 1 created it (SQLAlchemy's DDL, copied
# from a v1 file). Kept literal: the models have moved on since.
V1_SCHEMA = """
CREATE TABLE contacts (
    user VARCHAR NOT NULL,
    display_name VARCHAR,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (user)
);
CREATE TABLE messages (
    id VARCHAR NOT NULL,
    conversation VARCHAR NOT NULL,
    direction VARCHAR NOT NULL,
    sender VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    state VARCHAR NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT ck_messages_direction CHECK (direction IN ('out', 'in')),
    CONSTRAINT ck_messages_state
        CHECK (state IN ('pending', 'sent', 'delivered', 'read', 'failed', 'received'))
);
CREATE INDEX ix_messages_conversation_ts ON messages (conversation, ts_ms, id);
CREATE INDEX ix_messages_direction_state ON messages (direction, state, ts_ms, id);
PRAGMA user_version = 1;
"""

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp()) * 1000
HELLO = ChatMessage(
    id="m1",
    peer="bob",
    direction=Direction.IN,
    sender="bob",
    recipient="alice",
    ts=T0,
    body="hello from v1",
    state=DeliveryState.RECEIVED,
)


TABLES = ("contacts", "messages", "meta", "dismissed", "outgoing_changes", "rooms", "room_receipts")
"""Every table of the current schema."""


def assert_same_tables(path: Path, new_path: Path) -> None:
    """Every table of the current schema has the same columns in both files."""
    for table in TABLES:
        assert columns(path, table) == columns(new_path, table), table


def make_v1_file(path: Path) -> None:
    """A version 1 file as mqchat 1 left it (WAL, one contact, one message)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.executescript(V1_SCHEMA)
        raw.execute(
            "INSERT INTO contacts (user, display_name, added_at) VALUES ('bob', 'Bob', ?)",
            (T0_MS,),
        )
        raw.execute(
            "INSERT INTO messages VALUES "
            "('m1', 'bob', 'in', 'bob', 'alice', ?, 'hello from v1', 'received', ?)",
            (T0_MS, T0_MS + 5),
        )
    finally:
        raw.close()


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        version: int = raw.execute("PRAGMA user_version").fetchone()[0]
    return version


def columns(path: Path, table: str) -> list[tuple[object, ...]]:
    """(name, type, not null, default, primary key) of each column of ``table``."""
    with sqlite3.connect(path) as raw:
        return [tuple(row[1:]) for row in raw.execute(f"PRAGMA table_info({table})")]


def fts_is_whole(path: Path) -> bool:
    """FTS5's own check that the index holds exactly the stored bodies."""
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")
    return True


def schema_objects(path: Path) -> list[tuple[str, str, str]]:
    """(type, name, SQL) of what versions 5 and 6 add: the search index's tables,
    triggers and the messages' time index, by name."""
    with sqlite3.connect(path) as raw:
        found = raw.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE name LIKE 'message_search%' OR name = 'ix_messages_ts'"
        )
        return sorted(found.fetchall())


@pytest.fixture
def v1_path(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "alice.sqlite3"
    make_v1_file(path)
    return path


async def test_a_v1_file_is_migrated_and_keeps_its_data(v1_path: Path) -> None:
    assert SCHEMA_VERSION == 9
    async with await ChatStore.open(v1_path, clock=lambda: T0) as store:
        bob = await store.contact("bob")
        assert bob is not None
        assert (bob.display_name, bob.added_at, bob.status) == ("Bob", T0, ContactStatus.FRIEND)
        assert await store.conversation("bob") == [HELLO]
        assert await store.unread_count("bob") == 1
        assert await store.requests_to_send() == []

        # Everything version 2 adds works on the migrated file.
        carol = await store.add_contact("carol", status=ContactStatus.REQUESTED)
        assert carol.status is ContactStatus.REQUESTED
        assert [c.user for c in await store.requests_to_send()] == ["carol"]
        await store.mark_request_sent("carol")
        assert await store.requests_to_send() == []
        dana = await store.add_contact("dana", status=ContactStatus.INCOMING)
        assert [s.contact for s in await store.contact_summaries()] == [dana, bob, carol]
        device = await store.device_id()
        assert len(device) == 12
        # and what version 4 adds: ignored requests and blocks
        await store.dismissals.dismiss(["erin"], block=False)
        await store.dismissals.dismiss(["frank"], block=True)
        await store.dismissals.dismiss(["frank"], block=False)  # an ignore keeps a block
        assert await store.dismissals.blocked(["erin", "frank"]) == {"frank"}
        await store.dismissals.lift("frank")
        assert await store.dismissals.get("frank") is None
        # and version 5: the messages stored before are in the search index, and so
        # are those stored now
        assert await store.search("hello") == [HELLO]
        newer = replace(HELLO, id="m2", body="hello again", ts=T0 + timedelta(seconds=1))
        await store.add_message(newer)
        assert await store.search("hel") == [newer, HELLO]
        # and version 6: the index is filled in batches, and stays whole
        assert fts_is_whole(v1_path)

    assert user_version(v1_path) == SCHEMA_VERSION
    async with await ChatStore.open(v1_path) as reopened:  # already current, nothing to do
        assert await reopened.device_id() == device
        assert [c.user for c in await reopened.contacts()] == ["bob", "carol", "dana"]


async def test_a_migrated_file_has_the_schema_of_a_new_one(v1_path: Path, tmp_path: Path) -> None:
    new_path = tmp_path / "new.sqlite3"
    await (await ChatStore.open(new_path)).close()
    await (await ChatStore.open(v1_path)).close()
    assert_same_tables(v1_path, new_path)
    assert schema_objects(v1_path) == schema_objects(new_path) != []  # the search index
    for path in [v1_path, new_path]:
        with sqlite3.connect(path) as raw, pytest.raises(sqlite3.IntegrityError):
            raw.execute("INSERT INTO contacts (user, added_at, status) VALUES ('x', 0, 'enemy')")


def indexes(path: Path) -> dict[str, list[str]]:
    with contextlib.closing(sqlite3.connect(path)) as raw:
        names = [row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")]
        return {n: [c[2] for c in raw.execute(f"PRAGMA index_info('{n}')")] for n in names}


async def test_a_migrated_file_has_the_indexes_of_a_new_one(v1_path: Path, tmp_path: Path) -> None:
    # Version 5: a conversation's unread count and "mark read" no longer read the
    # unread messages of every other conversation.
    new_path = tmp_path / "new.sqlite3"
    await (await ChatStore.open(new_path)).close()
    await (await ChatStore.open(v1_path)).close()
    assert indexes(v1_path) == indexes(new_path)
    assert indexes(v1_path)["ix_messages_conversation_state"] == [
        "conversation",
        "direction",
        "state",
    ]
    with contextlib.closing(sqlite3.connect(v1_path)) as raw:
        plan = raw.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM messages "
            "WHERE conversation = 'bob' AND direction = 'in' AND state = 'received'"
        ).fetchall()
    assert "ix_messages_conversation_state" in str(plan)


async def test_two_stores_opening_a_v1_file_at_once_migrate_it_once(v1_path: Path) -> None:
    # Without the write lock around look-and-migrate, the second ALTER TABLE would
    # fail with a duplicate column.
    first, second = await asyncio.gather(ChatStore.open(v1_path), ChatStore.open(v1_path))
    async with first, second:
        assert await first.conversation("bob") == [HELLO]
        assert await first.device_id() == await second.device_id()
    assert user_version(v1_path) == SCHEMA_VERSION


async def test_a_failed_migration_leaves_the_file_at_v1(v1_path: Path) -> None:
    # A stray `meta` table makes the last step fail: the steps before it roll back too.
    with sqlite3.connect(v1_path) as raw:
        raw.execute("CREATE TABLE meta (whatever)")
    with pytest.raises(StoreError, match="table meta already exists"):
        await ChatStore.open(v1_path)
    assert user_version(v1_path) == 1
    assert [c[0] for c in columns(v1_path, "contacts")] == ["user", "display_name", "added_at"]


async def test_a_version_without_a_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = -1")
    with pytest.raises(SchemaVersionError, match="no migration from schema version -1"):
        await ChatStore.open(path)


# What version 2 added to version 1, exactly as mqchat 2 ran it.
V2_STEPS = """
ALTER TABLE contacts ADD COLUMN status TEXT NOT NULL DEFAULT 'friend'
    CONSTRAINT ck_contacts_status CHECK (status IN ('friend', 'requested', 'incoming'));
ALTER TABLE contacts ADD COLUMN request_sent_ms BIGINT;
CREATE TABLE meta (key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key));
INSERT INTO meta VALUES ('device_id', '0123456789ab');
PRAGMA user_version = 2;
"""


async def test_a_v2_file_keeps_its_messages_and_learns_set_aside_times(v1_path: Path) -> None:
    with sqlite3.connect(v1_path) as raw:
        raw.executescript(V2_STEPS)
    assert user_version(v1_path) == 2
    async with await ChatStore.open(v1_path, clock=lambda: T0) as store:
        assert await store.conversation("bob") == [HELLO]
        assert await store.device_id() == "0123456789ab"
        pinned = replace(HELLO, id="m2", claimed_ts=datetime(9999, 12, 31, tzinfo=UTC))
        await store.add_message(pinned)
        assert await store.get_message("m2") == pinned
    assert user_version(v1_path) == SCHEMA_VERSION
    assert ("claimed_ts_ms", "BIGINT", 0, None, 0) in columns(v1_path, "messages")


def make_v6_file(v1_path: Path) -> None:
    """A version 6 file: the v1 one taken up by the steps mqchat 6 ran."""
    with contextlib.closing(sqlite3.connect(v1_path, isolation_level=None)) as raw:
        for step in range(2, 7):
            for sql in _MIGRATIONS[step]:
                raw.execute(sql)
        raw.execute("PRAGMA user_version = 6")


async def test_a_v6_file_keeps_its_messages_and_learns_edits_and_deletes(v1_path: Path) -> None:
    make_v6_file(v1_path)
    assert "deleted" not in [c[0] for c in columns(v1_path, "messages")]
    async with await ChatStore.open(v1_path, clock=lambda: T0) as store:
        assert await store.conversation("bob") == [HELLO]  # not edited, not deleted
        assert await store.search("hello") == [HELLO]
        later = T0 + timedelta(minutes=1)
        _, edited = await store.change_message("m1", "bob", body="hello from v7", at=later)
        assert edited == replace(HELLO, body="hello from v7", edited=later)
        assert await store.search("v7") == [edited]
        _, deleted = await store.change_message("m1", "bob", body=None, at=later)
        assert await store.get_message("m1") == deleted
        assert deleted is not None and deleted.deleted and deleted.body == ""
        assert await store.search("hello") == []
        assert fts_is_whole(v1_path)
        change = ("c1", "bob", b"{}")
        await store.add_message(replace(HELLO, id="o1", sender="alice", body="mine"))
        await store.change_message("o1", "alice", body="mine!", at=later, publish=change)
        assert await store.outgoing_changes() == [change]
    assert user_version(v1_path) == SCHEMA_VERSION
    assert columns(v1_path, "messages")[-3:] == [
        ("edited_at_ms", "BIGINT", 0, None, 0),
        ("deleted", "BOOLEAN", 1, "0", 0),
        ("sealed", "BOOLEAN", 1, "0", 0),  # schema 9
    ]


async def test_a_migrated_v6_file_has_the_schema_of_a_new_one(
    v1_path: Path, tmp_path: Path
) -> None:
    make_v6_file(v1_path)
    new_path = tmp_path / "new.sqlite3"
    await (await ChatStore.open(new_path)).close()
    await (await ChatStore.open(v1_path)).close()
    assert_same_tables(v1_path, new_path)
    assert schema_objects(v1_path) == schema_objects(new_path) != []
    assert indexes(v1_path) == indexes(new_path)
