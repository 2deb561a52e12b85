"""The search index is filled in batches (schema version 6): storing a message does
not index it, a catch-up a moment later (or before any search, or on closing) does.
What a user checks: every stored message is found, whoever stored it, and the index
never disagrees with the stored bodies (FTS5's own integrity check)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore
from mqchat.store.database import _MIGRATIONS
from mqchat.store.search_index import INDEXED_KEY
from mqchat.store.sqlite_file import SCHEMA_VERSION

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def msg(mid: str, body: str, seconds: int = 0) -> ChatMessage:
    ts = T0 + timedelta(seconds=seconds)
    return ChatMessage(mid, "bob", Direction.IN, "bob", "alice", ts, body, DeliveryState.RECEIVED)


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def indexed_up_to(path: Path) -> int:
    with raw(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (INDEXED_KEY,)).fetchone()
    return int(row[0])


def index_is_whole(path: Path) -> bool:
    with raw(path) as conn:
        conn.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")
    return True


def max_rowid(path: Path) -> int:
    with raw(path) as conn:
        return int(conn.execute("SELECT max(rowid) FROM messages").fetchone()[0])


async def test_storing_does_not_index_but_a_search_and_closing_do(tmp_path: Path) -> None:
    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as store:
        await store.add_messages([msg("m1", "pizza friday"), msg("m2", "salad monday", 1)])
        assert indexed_up_to(path) == 0  # not yet: a catch-up is due in a moment
        assert [m.id for m in await store.search("pizz")] == ["m1"]
        assert indexed_up_to(path) == max_rowid(path)
        await store.add_message(msg("m3", "pizza again", 2))
    # Closing ran the catch-up that was due.
    assert indexed_up_to(path) == max_rowid(path)
    assert index_is_whole(path)


async def test_a_search_finds_what_another_process_stored(tmp_path: Path) -> None:
    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as tui:
        await tui.add_message(msg("m1", "first words"))
        with raw(path) as other:  # a headless `mqchat send`, killed before indexing
            other.execute(
                "INSERT INTO messages (id, conversation, direction, sender, recipient, ts_ms, "
                "body, state, received_at_ms) VALUES ('m2', 'bob', 'out', 'alice', 'bob', "
                f"{int(T0.timestamp() * 1000) + 5000}, 'sent from elsewhere', 'sent', 0)"
            )
        assert [m.id for m in await tui.search("elsewhere")] == ["m2"]
        assert [m.id for m in await tui.search("first")] == ["m1"]
    assert index_is_whole(path)


def make_v5_file(path: Path, bodies: list[str]) -> None:
    """A file as schema version 5 left it: every body indexed by a trigger."""
    with raw(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(
            "CREATE TABLE contacts (user VARCHAR NOT NULL, display_name VARCHAR, "
            "added_at BIGINT NOT NULL, PRIMARY KEY (user));"
            "CREATE TABLE messages (id VARCHAR NOT NULL, conversation VARCHAR NOT NULL, "
            "direction VARCHAR NOT NULL, sender VARCHAR NOT NULL, recipient VARCHAR NOT NULL, "
            "ts_ms BIGINT NOT NULL, body TEXT NOT NULL, state VARCHAR NOT NULL, "
            "received_at_ms BIGINT NOT NULL, PRIMARY KEY (id));"
            "CREATE INDEX ix_messages_conversation_ts ON messages (conversation, ts_ms, id);"
            "CREATE INDEX ix_messages_direction_state ON messages "
            "(direction, state, ts_ms, id);"
        )
        for version in range(2, 6):
            for sql in _MIGRATIONS[version]:
                conn.execute(sql)
        conn.execute("PRAGMA user_version = 5")
        for i, body in enumerate(bodies):
            conn.execute(
                "INSERT INTO messages (id, conversation, direction, sender, recipient, ts_ms, "
                "body, state, received_at_ms) VALUES (?, 'bob', 'in', 'bob', 'alice', ?, ?, "
                "'received', 0)",
                (f"m{i + 1}", int(T0.timestamp() * 1000) + i * 1000, body),
            )


async def test_a_v5_file_keeps_its_index_and_edits_stay_consistent(tmp_path: Path) -> None:
    path = tmp_path / "alice.sqlite3"
    make_v5_file(path, ["old pizza", "old salad"])
    async with await ChatStore.open(path) as store:
        assert indexed_up_to(path) == 2  # what version 5 indexed is kept, not redone
        assert [m.id for m in await store.search("pizza")] == ["m1"]
        await store.add_message(msg("m3", "new soup", 5))
        with raw(path) as conn:
            # A body changed after it was indexed, and one before (m3: not yet).
            conn.execute("UPDATE messages SET body = 'edited pasta' WHERE id = 'm1'")
            conn.execute("UPDATE messages SET body = 'edited stew' WHERE id = 'm3'")
        assert await store.search("pizza") == []
        assert [m.id for m in await store.search("edited")] == ["m3", "m1"]
        assert await store.search("soup") == []
        edited = await store.get_message("m1")
        assert edited is not None and edited.body == "edited pasta"
    assert SCHEMA_VERSION >= 7
    assert index_is_whole(path)
