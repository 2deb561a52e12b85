"""Opening a history whose schema is current takes the short way: plain SQL only,
SQLAlchemy loaded (in a thread) when a query first needs the ORM. The first screen
of ``mqchat chat PEER`` is drawn before it is loaded."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState, Direction
from mqchat.store import ChatStore
from mqchat.store.convert import CONTACT_FIELDS, MESSAGE_COLUMNS, MESSAGE_FIELDS
from mqchat.store.models import ContactRow, MessageRow
from mqchat.store.sqlite_file import SCHEMA_VERSION, open_if_current

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def incoming(mid: str, body: str) -> ChatMessage:
    return ChatMessage(mid, "bob", Direction.IN, "bob", "alice", T0, body, DeliveryState.RECEIVED)


def test_the_plain_statements_name_the_models_columns() -> None:
    assert tuple(c.name for c in MessageRow.__table__.columns) == MESSAGE_COLUMNS
    assert set(MESSAGE_FIELDS.split(", ")) <= set(MESSAGE_COLUMNS)
    assert set(CONTACT_FIELDS.split(", ")) <= {c.name for c in ContactRow.__table__.columns}


async def test_only_a_current_file_in_wal_mode_takes_the_short_way(tmp_path: Path) -> None:
    path = tmp_path / "alice.sqlite3"
    path.write_bytes(b"")
    assert open_if_current(path) is None  # new and empty: to be created
    store = await ChatStore.open(path)
    await store.close()
    conn = open_if_current(path)
    assert conn is not None
    conn.close()
    with sqlite3.connect(path) as older:
        older.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    assert open_if_current(path) is None  # to be migrated
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all " * 100)
    assert open_if_current(garbage) is None  # the long way says what is wrong


async def test_a_reopened_store_loads_the_orm_only_when_a_query_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as store:
        await store.add_contact("bob", status=ContactStatus.REQUESTED)
        await store.add_messages([incoming("m1", "hello there"), incoming("m2", "general kenobi")])
    async with await ChatStore.open(path) as store:
        assert store._orm_store is None
        assert [m.id for m in await store.page_before("bob", None)] == ["m1", "m2"]
        assert store._orm_store is None
        # Several callers at once share one load.
        hits, requests = await asyncio.gather(store.search("kenobi"), store.requests_to_send())
        assert [m.id for m in hits] == ["m2"]
        assert [c.user for c in requests] == ["bob"]
        assert store._orm_store is not None
        assert [m.id for m in await store.conversation("bob")] == ["m1", "m2"]


def test_the_first_screen_of_a_conversation_needs_no_sqlalchemy(tmp_path: Path) -> None:
    """Everything ``mqchat chat bob`` asks of the store before its first frame, and
    what the chat does on connecting, in a fresh interpreter: SQLAlchemy is never
    imported (it is a third of the start-up)."""
    path = tmp_path / "alice.sqlite3"
    # A new file is created by the ORM; that is another interpreter's business.
    create = "import asyncio\nfrom pathlib import Path\nfrom mqchat.store import ChatStore\n"
    create += f"async def main():\n    await (await ChatStore.open(Path({str(path)!r}))).close()\n"
    create += "asyncio.run(main())\n"
    subprocess.run([sys.executable, "-c", create], check=True)
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from mqchat.store import ChatStore

        async def main():
            store = await ChatStore.open(Path({str(path)!r}))
            await store.device_id()
            await store.contacts()
            await store.contact("bob")
            await store.dismissals.lift("bob")
            await store.add_contact("bob")
            await store.contact_summaries()
            await store.page_before("bob", None)
            await store.unread_count("bob")
            await store.mark_read("bob")
            await store.pending_outgoing()
            await store.close()
            heavy = ("sqlalchemy", "aiosqlite")
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
            print(loaded[:3])

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


async def test_only_a_rooms_members_count_as_its_readers(tmp_path: Path) -> None:
    from mqchat.core.model import Direction as D
    from mqchat.core.rooms import Room

    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as store:
        await store.rooms.save(Room("r1", "trip", ("alice", "bob", "carol"), ("alice",), 1, True))
        mine = ChatMessage("m1", "#r1", D.OUT, "alice", "#r1", T0, "hi all", DeliveryState.SENT)
        await store.add_messages([mine])
        assert await store.rooms.receipts(["m1"], "mallory", DeliveryState.READ) == []
        assert await store.rooms.receipts(["m1"], "bob", DeliveryState.DELIVERED) == ["m1"]
        assert await store.rooms.receipts(["m1"], "bob", DeliveryState.READ) == ["m1"]
        assert await store.rooms.receipts(["m1"], "bob", DeliveryState.DELIVERED) == []
        assert await store.rooms.counts(["m1"]) == {"m1": (1, 1)}


async def test_room_statements_take_more_ids_than_one_statement_holds(tmp_path: Path) -> None:
    # 1,000 unread room messages marked read at once: every one is answered.
    from mqchat.core.model import Direction as D
    from mqchat.core.rooms import Room

    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as store:
        await store.rooms.save(Room("r1", "trip", ("alice", "bob"), ("alice",), 1, True))
        got = DeliveryState.RECEIVED
        theirs = [ChatMessage(f"i{i:04}", "#r1", D.IN, "bob", "#r1", T0, "hi", got)
                  for i in range(1000)]  # fmt: skip
        mine = [ChatMessage(f"o{i:04}", "#r1", D.OUT, "alice", "#r1", T0, "yo", DeliveryState.SENT)
                for i in range(1000)]  # fmt: skip
        await store.add_messages(theirs + mine)
        ids = await store.mark_read("#r1")
        assert len((await store.rooms.senders(ids))["bob"]) == 1000
        out = [m.id for m in mine]
        assert len(await store.rooms.receipts(out, "bob", DeliveryState.READ)) == 1000
        assert len(await store.rooms.counts(out)) == 1000
