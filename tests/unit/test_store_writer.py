"""The store's hot writes (mqchat/store/writer.py): at once when the file is free,
waiting on the store's thread when another writer holds it, and the same rules
as the ORM side for moving states."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
S = DeliveryState


def out(id: str, *, peer: str = "bob", ms: int = 0, state: S = S.PENDING) -> ChatMessage:
    return ChatMessage(id, peer, Direction.OUT, "alice", peer, T0 + timedelta(milliseconds=ms),
                       f"to {peer} {id}", state)  # fmt: skip


def incoming(id: str, *, peer: str = "bob") -> ChatMessage:
    return ChatMessage(id, peer, Direction.IN, peer, "alice", T0, f"from {peer}", S.RECEIVED)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "alice.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[ChatStore]:
    async with await ChatStore.open(db_path, clock=lambda: T0) as s:
        yield s


@contextlib.contextmanager
def another_writer(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection (another process, say) holding the file's write lock."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
        conn.close()


async def test_a_write_waits_for_another_writer_without_holding_up_the_loop(
    store: ChatStore, db_path: Path
) -> None:
    with another_writer(db_path) as other:
        assert store.add_messages_now([out("m1")]) is None  # would have to wait: nothing done
        adding = asyncio.create_task(store.add_messages([out("m1"), out("m2", ms=1)]))
        ticks = 0
        while ticks < 20 and not adding.done():  # the loop keeps running meanwhile
            await asyncio.sleep(0)
            ticks += 1
        assert ticks == 20 and not adding.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(adding, 10) == {"m1", "m2"}
    assert [m.id for m in await store.conversation("bob")] == ["m1", "m2"]
    assert store.add_messages_now([out("m3", ms=2), out("m1")]) == {"m3"}  # free again: at once


async def test_a_repeated_id_is_stored_once_with_its_first_version(store: ChatStore) -> None:
    first, second = out("m1"), out("m1", ms=5)
    assert await store.add_messages([first, second]) == {"m1"}
    assert await store.add_messages([second]) == set()
    assert await store.conversation("bob") == [first]


async def test_more_messages_than_one_statement_holds_are_stored_together(
    store: ChatStore,
) -> None:
    many = [out(f"m{i:04d}", ms=i) for i in range(500)]
    assert await store.add_messages(many) == {m.id for m in many}
    assert await store.conversation("bob") == many


async def test_advance_outgoing_moves_only_our_messages_to_that_peer_and_only_forward(
    store: ChatStore,
) -> None:
    await store.add_messages(
        [
            out("a", ms=1),
            out("b", ms=2, state=S.READ),
            out("c", ms=3, state=S.FAILED),
            out("d", peer="carol", ms=4),
            incoming("e"),
        ]
    )
    moved = await store.advance_outgoing(["c", "e", "nope", "d", "b", "a", "a"], S.DELIVERED,
                                         peer="bob")  # fmt: skip
    # In the order asked; a read one stays read, carol's and incoming ones are untouched.
    assert [(m.id, m.state) for m in moved] == [("c", S.DELIVERED), ("a", S.DELIVERED)]
    states = {m.id: m.state for m in await store.conversation("bob")}
    assert states == {"a": S.DELIVERED, "b": S.READ, "c": S.DELIVERED, "e": S.RECEIVED}
    assert (await store.conversation("carol"))[0].state is S.PENDING
    # Without a peer, as for PUBACKs: only from pending to sent.
    sent = await store.advance_outgoing(["a", "d"], S.SENT)
    assert [(m.id, m.peer, m.state) for m in sent] == [("d", "carol", S.SENT)]


async def test_a_store_used_again_after_close_still_writes(db_path: Path) -> None:
    store = await ChatStore.open(db_path)
    await store.add_messages([out("m1")])
    await store.close()
    await store.close()
    assert await store.add_messages([out("m2", ms=1)]) == {"m2"}
    await store.close()
    async with await ChatStore.open(db_path) as again:
        assert [m.id for m in await again.conversation("bob")] == ["m1", "m2"]
