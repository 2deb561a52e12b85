"""The SQLite chat store, on a temporary file per test."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState, Direction
from mqchat.core.names import InvalidUserName
from mqchat.store import ChatStore, SchemaVersionError
from mqchat.store.database import create_engine

ME = "alice"
CS = ContactStatus
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
S = DeliveryState


def msg(
    id: str,
    *,
    peer: str = "bob",
    out: bool = False,
    ms: int = 0,
    state: DeliveryState | None = None,
    body: str | None = None,
) -> ChatMessage:
    """A message ``ms`` milliseconds after T0, from ``peer`` (or to it when ``out``)."""
    return ChatMessage(
        id=id,
        peer=peer,
        direction=Direction.OUT if out else Direction.IN,
        sender=ME if out else peer,
        recipient=peer if out else ME,
        ts=T0 + timedelta(milliseconds=ms),
        body=body if body is not None else f"body of {id}",
        state=state or (S.PENDING if out else S.RECEIVED),
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "broker_1883" / "alice.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[ChatStore]:
    async with await ChatStore.open(db_path, clock=lambda: T0) as s:
        yield s


async def test_open_creates_file_in_wal_mode(db_path: Path) -> None:
    store = await ChatStore.open(db_path)
    await store.close()
    assert db_path.is_file()
    with sqlite3.connect(db_path) as raw:  # journal_mode=WAL is stored in the file
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (9,)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"contacts", "messages", "meta"} <= tables


async def test_every_connection_gets_its_pragmas(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    engine = create_engine(db_path, busy_timeout=7.5)
    try:
        async with engine.connect() as conn:

            async def pragma(name: str) -> object:
                return (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()

            assert await pragma("journal_mode") == "wal"
            assert await pragma("synchronous") == 1  # NORMAL
            assert await pragma("foreign_keys") == 1
            assert await pragma("busy_timeout") == 7500
    finally:
        await engine.dispose()


async def test_message_round_trip(store: ChatStore) -> None:
    original = msg("m1", out=True, ms=123, body="héllo ✓\nsecond line")
    assert await store.add_message(original) is True
    loaded = await store.get_message("m1")
    assert loaded == original
    assert loaded is not None and loaded.ts.tzinfo is not None
    assert loaded.ts.utcoffset() == timedelta(0)
    assert await store.get_message("nope") is None


async def test_timestamps_keep_milliseconds_and_normalise_to_utc(store: ChatStore) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    ts = datetime(2026, 1, 2, 3, 4, 5, 678_999, tzinfo=UTC).astimezone(india)
    m = ChatMessage("m1", "bob", Direction.IN, "bob", ME, ts, "x", S.RECEIVED)
    await store.add_message(m)
    loaded = await store.get_message("m1")
    assert loaded is not None
    assert loaded.ts == datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert loaded.ts.tzinfo is UTC


async def test_add_message_is_idempotent(store: ChatStore) -> None:
    assert await store.add_message(msg("dup", body="first")) is True
    assert await store.add_message(msg("dup", body="redelivered", ms=999)) is False
    assert [m.body for m in await store.conversation("bob")] == ["first"]
    assert await store.unread_count("bob") == 1


async def test_keyset_pages_walk_back_to_the_start(store: ChatStore) -> None:
    # 120 messages, three per millisecond, ids inserted out of order.
    messages = [msg(f"id{i:03d}", ms=i // 3, out=i % 2 == 0) for i in range(120)]
    for m in reversed(messages):
        await store.add_message(m)
    await store.add_message(msg("other", peer="carol", ms=20))

    pages: list[list[ChatMessage]] = []
    before: ChatMessage | None = None
    while page := await store.page_before("bob", before, limit=50):
        pages.append(page)
        before = page[0]  # the oldest of this page
        assert len(pages) <= 3, "paging does not advance"
    assert [len(p) for p in pages] == [50, 50, 20]
    walked = [m for page in reversed(pages) for m in page]
    assert [m.id for m in walked] == [m.id for m in messages]
    assert walked == messages
    assert await store.conversation("bob") == messages


async def test_keyset_pages_walk_forward_from_the_start(store: ChatStore) -> None:
    messages = [msg(f"id{i:03d}", ms=i // 3, out=i % 2 == 0) for i in range(120)]
    for m in reversed(messages):
        await store.add_message(m)
    await store.add_message(msg("other", peer="carol", ms=20))

    pages: list[list[ChatMessage]] = []
    after: ChatMessage | None = None
    while page := await store.page_after("bob", after, limit=50):
        pages.append(page)
        after = page[-1]  # the newest of this page
        assert len(pages) <= 3, "paging does not advance"
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [m for page in pages for m in page] == messages
    # ties in time are broken by id, as going back does
    middle = messages[60]
    assert [m.id for m in await store.page_after("bob", middle, limit=3)] == [
        m.id for m in messages[61:64]
    ]
    with pytest.raises(ValueError):
        await store.page_after("bob", None, limit=0)


async def test_mark_read_up_to_a_message_leaves_newer_ones_unread(store: ChatStore) -> None:
    for m in [msg("b1", ms=1), msg("b2", ms=2), msg("o1", ms=3, out=True), msg("b3", ms=4)]:
        await store.add_message(m)
    b2 = await store.get_message("b2")
    assert b2 is not None
    assert await store.mark_read("bob", b2) == ["b1", "b2"]
    assert await store.unread_count("bob") == 1
    assert await store.mark_read("bob", b2) == []
    assert await store.mark_read("bob") == ["b3"]


async def test_page_boundary_with_equal_timestamps_breaks_ties_by_id(store: ChatStore) -> None:
    for id in ["c", "a", "e", "b", "d"]:
        await store.add_message(msg(id, ms=5))
    await store.add_message(msg("z-older", ms=4))
    await store.add_message(msg("0-newer", ms=6))

    newest = await store.page_before("bob", None, limit=2)
    assert [m.id for m in newest] == ["e", "0-newer"]
    c = await store.get_message("c")
    assert [m.id for m in await store.page_before("bob", c, limit=2)] == ["a", "b"]
    assert [m.id for m in await store.page_before("bob", c, limit=10)] == ["z-older", "a", "b"]
    # The cursor need not be stored: only its (ts, id) matters.
    ghost = msg("cc", ms=5)
    assert [m.id for m in await store.page_before("bob", ghost, limit=3)] == ["a", "b", "c"]
    with pytest.raises(ValueError):
        await store.page_before("bob", None, limit=0)


async def test_pending_outgoing_is_the_outbox_oldest_first(store: ChatStore) -> None:
    await store.add_message(msg("p3", out=True, ms=30, peer="carol"))
    await store.add_message(msg("p1", out=True, ms=10))
    await store.add_message(msg("s2", out=True, ms=20, state=S.SENT))
    await store.add_message(msg("in", ms=15))
    await store.add_message(msg("p2b", out=True, ms=20))
    await store.add_message(msg("p2a", out=True, ms=20))
    assert [m.id for m in await store.pending_outgoing()] == ["p1", "p2a", "p2b", "p3"]
    await store.set_state("p1", S.SENT)
    await store.set_state("p3", S.FAILED)
    assert [m.id for m in await store.pending_outgoing()] == ["p2a", "p2b"]


async def test_set_state_only_moves_outgoing_messages_forward(store: ChatStore) -> None:
    await store.add_message(msg("m", out=True))

    async def state() -> DeliveryState:
        stored = await store.get_message("m")
        assert stored is not None
        return stored.state

    updated = await store.set_state("m", S.SENT)
    assert updated is not None and updated.state is S.SENT and updated.id == "m"
    assert await store.set_state("m", S.SENT) is None  # no change
    assert await store.set_state("m", S.PENDING) is None
    assert await store.set_state("m", S.FAILED) is None  # failed only from pending
    assert await store.set_state("m", S.READ) is not None  # a read receipt overtook delivered
    assert await store.set_state("m", S.DELIVERED) is None  # late receipt: no step back
    assert await store.set_state("m", S.RECEIVED) is None
    assert await state() is S.READ
    assert await store.set_state("unknown", S.SENT) is None


async def test_set_state_failed_and_incoming(store: ChatStore) -> None:
    await store.add_message(msg("out", out=True))
    await store.add_message(msg("in"))
    failed = await store.set_state("out", S.FAILED)
    assert failed is not None and failed.state is S.FAILED
    assert await store.set_state("out", S.SENT) is None
    assert await store.set_state("out", S.PENDING) is None
    # Incoming messages have no delivery states, only received -> read.
    assert await store.set_state("in", S.SENT) is None
    assert await store.set_state("in", S.DELIVERED) is None
    read = await store.set_state("in", S.READ)
    assert read is not None and read.state is S.READ
    assert await store.set_state("in", S.RECEIVED) is None


async def test_mark_read_and_unread_count(store: ChatStore) -> None:
    for m in [
        msg("b1", ms=1),
        msg("b2", ms=2),
        msg("b3", ms=3, state=S.READ),
        msg("o1", ms=4, out=True, state=S.DELIVERED),
        msg("c1", ms=5, peer="carol"),
    ]:
        await store.add_message(m)
    assert await store.unread_count("bob") == 2
    assert await store.unread_count("carol") == 1
    assert await store.unread_count("nobody") == 0

    assert await store.mark_read("bob") == ["b1", "b2"]
    assert await store.unread_count("bob") == 0
    assert await store.mark_read("bob") == []
    assert await store.unread_count("carol") == 1
    states = {m.id: m.state for m in await store.conversation("bob")}
    assert states == {"b1": S.READ, "b2": S.READ, "b3": S.READ, "o1": S.DELIVERED}


async def test_contacts_add_is_idempotent_and_remove_keeps_history(store: ChatStore) -> None:
    bob = await store.add_contact("bob")
    assert (bob.user, bob.display_name, bob.added_at) == ("bob", None, T0)
    renamed = await store.add_contact("bob", "Bob B.")
    assert renamed.display_name == "Bob B."
    assert (await store.add_contact("bob")).display_name == "Bob B."  # None keeps the name
    await store.add_contact("Carol")
    await store.add_contact("al.ice-2")
    assert [c.user for c in await store.contacts()] == ["al.ice-2", "bob", "Carol"]

    await store.add_message(msg("m1"))
    assert await store.remove_contact("bob") is True
    assert await store.remove_contact("bob") is False
    assert [c.user for c in await store.contacts()] == ["al.ice-2", "Carol"]
    assert [m.id for m in await store.conversation("bob")] == ["m1"]


@pytest.mark.parametrize("name", ["", "a/b", "a+", "#", "$SYS", "with space", "x" * 33, "nul\x00"])
async def test_add_contact_refuses_invalid_names(store: ChatStore, name: str) -> None:
    with pytest.raises(InvalidUserName):
        await store.add_contact(name)
    assert await store.contacts() == []


async def test_contact_summaries(store: ChatStore) -> None:
    for user in ["dave", "bob", "carol", "Erin", "zed"]:
        await store.add_contact(user)
    await store.add_message(msg("b1", peer="bob", ms=10))
    await store.add_message(msg("b2", peer="bob", ms=30))
    await store.add_message(msg("b3", peer="bob", ms=40, out=True))
    await store.add_message(msg("c1", peer="carol", ms=50, state=S.READ))
    await store.add_message(msg("z1", peer="zed", ms=40))  # same ts as bob's last: by name
    await store.add_message(msg("s1", peer="stranger", ms=99))  # not a contact

    summaries = await store.contact_summaries()
    assert [s.contact.user for s in summaries] == ["carol", "bob", "zed", "dave", "Erin"]
    by_user = {s.contact.user: s for s in summaries}
    assert {u: s.unread for u, s in by_user.items()} == {
        "carol": 0,
        "bob": 2,
        "zed": 1,
        "dave": 0,
        "Erin": 0,
    }
    assert by_user["bob"].last_message == msg("b3", peer="bob", ms=40, out=True)
    assert by_user["carol"].last_message is not None
    assert by_user["carol"].last_message.id == "c1"
    assert by_user["dave"].last_message is None
    assert by_user["bob"].contact.added_at == T0


async def test_contacts_are_friends_unless_told_otherwise(store: ChatStore) -> None:
    assert (await store.add_contact("bob")).status is CS.FRIEND
    carol = await store.add_contact("carol", "Carol", status=CS.INCOMING)
    assert (carol.user, carol.display_name, carol.status) == ("carol", "Carol", CS.INCOMING)
    assert carol.is_request
    # Adding again keeps the stored status, whatever is asked for.
    assert (await store.add_contact("carol", status=CS.REQUESTED)).status is CS.INCOMING
    again = await store.add_contact("bob", "Bob", status=CS.INCOMING)
    assert (again.display_name, again.status) == ("Bob", CS.FRIEND)
    assert {c.user: c.status for c in await store.contacts()} == {
        "bob": CS.FRIEND,
        "carol": CS.INCOMING,
    }


async def test_contact_looks_one_up(store: ChatStore) -> None:
    assert await store.contact("bob") is None
    added = await store.add_contact("bob", "Bob", status=CS.REQUESTED)
    assert await store.contact("bob") == added
    assert added.added_at == T0
    assert await store.contact("Bob") is None  # user names are case-sensitive
    await store.remove_contact("bob")
    assert await store.contact("bob") is None


async def test_set_contact_status(store: ChatStore) -> None:
    assert await store.set_contact_status("bob", CS.FRIEND) is None
    assert await store.contacts() == []  # an unknown user is not added

    await store.add_contact("bob", "Bob", status=CS.INCOMING)
    accepted = await store.set_contact_status("bob", CS.FRIEND)
    assert accepted is not None
    assert (accepted.user, accepted.display_name, accepted.status) == ("bob", "Bob", CS.FRIEND)
    assert accepted.added_at == T0
    assert await store.contact("bob") == accepted
    unchanged = await store.set_contact_status("bob", CS.FRIEND)
    assert unchanged == accepted


async def test_requests_to_send_until_marked_sent(db_path: Path) -> None:
    now = [T0]
    async with await ChatStore.open(db_path, clock=lambda: now[0]) as store:
        for i, (user, status) in enumerate(
            [
                ("zed", CS.REQUESTED),
                ("bob", CS.FRIEND),
                ("carol", CS.REQUESTED),
                ("dave", CS.INCOMING),
                ("amy", CS.REQUESTED),
            ]
        ):
            now[0] = T0 + timedelta(seconds=i)
            await store.add_contact(user, status=status)
        await store.add_contact("ann", status=CS.REQUESTED)  # same added_at as amy: by name

        async def to_send() -> list[str]:
            return [c.user for c in await store.requests_to_send()]

        assert await to_send() == ["zed", "carol", "amy", "ann"]
        assert all(c.status is CS.REQUESTED for c in await store.requests_to_send())

        now[0] = T0 + timedelta(minutes=5)
        await store.mark_request_sent("carol")
        await store.mark_request_sent("zed")
        await store.mark_request_sent("nobody")  # unknown: nothing happens
        await store.mark_request_sent("bob")  # not requested: nothing happens
        assert await to_send() == ["amy", "ann"]

        # Their accept arrived: a friend now, nothing to send.
        await store.set_contact_status("amy", CS.FRIEND)
        assert await to_send() == ["ann"]
        # Asked again (after a decline, say): a new request is due.
        await store.set_contact_status("carol", CS.REQUESTED)
        await store.set_contact_status("bob", CS.REQUESTED)
        assert await to_send() == ["bob", "carol", "ann"]

    with sqlite3.connect(db_path) as raw:
        sent = dict(raw.execute("SELECT user, request_sent_ms FROM contacts"))
    five_minutes = int((T0 + timedelta(minutes=5)).timestamp()) * 1000
    assert sent == {
        "zed": five_minutes,
        "bob": None,
        "carol": None,
        "dave": None,
        "amy": None,
        "ann": None,
    }


async def test_contact_summaries_put_incoming_requests_first(store: ChatStore) -> None:
    await store.add_contact("bob")
    await store.add_contact("yann", status=CS.INCOMING)
    await store.add_contact("carol", status=CS.REQUESTED)
    await store.add_contact("Xena", status=CS.INCOMING)
    await store.add_contact("dave")
    await store.add_contact("wes", status=CS.INCOMING)
    await store.add_message(msg("b1", peer="bob", ms=50))
    await store.add_message(msg("c1", peer="carol", ms=40, out=True))
    await store.add_message(msg("w1", peer="wes", ms=10))

    summaries = await store.contact_summaries()
    # Incoming by activity, then by name; then everyone else in the same order.
    assert [s.contact.user for s in summaries] == ["wes", "Xena", "yann", "bob", "carol", "dave"]
    assert [s.contact.status for s in summaries] == [CS.INCOMING] * 3 + [
        CS.FRIEND,
        CS.REQUESTED,
        CS.FRIEND,
    ]
    assert summaries[0].unread == 1

    await store.set_contact_status("yann", CS.FRIEND)
    users = [s.contact.user for s in await store.contact_summaries()]
    assert users == ["wes", "Xena", "bob", "carol", "dave", "yann"]


async def test_status_is_checked_by_the_database(store: ChatStore, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw, pytest.raises(sqlite3.IntegrityError):
        raw.execute("INSERT INTO contacts (user, added_at, status) VALUES ('x', 0, 'enemy')")
    assert await store.contacts() == []


async def test_device_id_is_made_once_and_kept(db_path: Path) -> None:
    async with await ChatStore.open(db_path) as store:
        first = await store.device_id()
        assert len(first) == 12
        assert int(first, 16) >= 0  # hex
        assert first == first.lower()
        assert await store.device_id() == first

    async with await ChatStore.open(db_path) as reopened:
        assert await reopened.device_id() == first

    with sqlite3.connect(db_path) as raw:
        made = raw.execute("SELECT key, value FROM meta WHERE key = 'device_id'").fetchall()
        assert made == [("device_id", first)]


async def test_device_id_differs_between_files(tmp_path: Path) -> None:
    async with (
        await ChatStore.open(tmp_path / "a.sqlite3") as a,
        await ChatStore.open(tmp_path / "b.sqlite3") as b,
    ):
        assert await a.device_id() != await b.device_id()


async def test_device_id_under_concurrent_first_calls(db_path: Path) -> None:
    # Two stores (as two processes would) and many tasks ask on a fresh file at once:
    # one id is made and every caller gets it.
    tui, headless = await asyncio.gather(ChatStore.open(db_path), ChatStore.open(db_path))
    async with tui, headless:
        ids = await asyncio.gather(
            *(tui.device_id() for _ in range(10)), *(headless.device_id() for _ in range(10))
        )
    assert len(set(ids)) == 1
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchall() == [
            (ids[0],)
        ]


async def test_data_persists_across_reopen(db_path: Path) -> None:
    store = await ChatStore.open(db_path)
    await store.add_contact("bob", "Bob")
    await store.add_contact("carol", status=CS.INCOMING)
    await store.add_message(msg("m1", out=True, ms=7))
    await store.set_state("m1", S.DELIVERED)
    await store.close()

    async with await ChatStore.open(db_path) as reopened:
        assert [(c.user, c.display_name, c.status) for c in await reopened.contacts()] == [
            ("bob", "Bob", CS.FRIEND),
            ("carol", None, CS.INCOMING),
        ]
        assert await reopened.conversation("bob") == [msg("m1", out=True, ms=7, state=S.DELIVERED)]
        assert await reopened.add_message(msg("m1", out=True, ms=7)) is False


async def test_concurrent_tasks_and_two_stores_on_one_file(db_path: Path) -> None:
    # Opened at the same moment on a new file: only one of them creates the schema.
    tui, headless = await asyncio.gather(ChatStore.open(db_path), ChatStore.open(db_path))
    async with tui, headless:
        results = await asyncio.gather(
            *(tui.add_message(msg(f"t{i:02d}", ms=i)) for i in range(40)),
            *(headless.add_message(msg(f"h{i:02d}", ms=i, out=True)) for i in range(40)),
            *(tui.add_contact(f"user{i}") for i in range(10)),
            *(headless.unread_count("bob") for _ in range(10)),
        )
        assert results[:80] == [True] * 80
        assert len(await headless.conversation("bob")) == 80
        assert await tui.unread_count("bob") == 40
        assert len(await headless.contacts()) == 10


async def test_a_write_waits_for_another_process_lock(db_path: Path) -> None:
    async with await ChatStore.open(db_path, busy_timeout=10) as store:
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            other.execute("INSERT INTO contacts (user, added_at) VALUES ('zoe', 0)")
            write = asyncio.create_task(store.add_message(msg("m1")))
            await asyncio.sleep(0.3)
            assert not write.done()  # waiting on the lock, not failed
            other.execute("COMMIT")
            assert await asyncio.wait_for(write, 5) is True
        finally:
            other.close()
        assert [c.user for c in await store.contacts()] == ["zoe"]
        assert await store.get_message("m1") is not None


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    await (await ChatStore.open(db_path)).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaVersionError, match="99"):
        await ChatStore.open(db_path)


async def test_opening_waits_while_another_process_creates_the_file(tmp_path: Path) -> None:
    # A new file (rollback journal) locked by another writer: switching it to WAL
    # must wait for the lock, as SQLite's busy timeout does not cover that pragma.
    path = tmp_path / "new.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE unrelated (x)")
        opening = asyncio.create_task(ChatStore.open(path))
        await asyncio.sleep(0.3)
        assert not opening.done()  # waiting on the lock, not failed
        other.execute("COMMIT")
        store = await asyncio.wait_for(opening, 5)
    finally:
        other.close()
    async with store:
        assert await store.add_message(msg("m1"))


async def test_add_messages_stores_a_burst_once_and_reports_the_new_ids(db_path: Path) -> None:
    async with await ChatStore.open(db_path) as store:
        first = [msg(f"b{i}", ms=i, body=f"burst {i}") for i in range(5)]
        assert await store.add_messages(first) == {m.id for m in first}
        again = [first[1], msg("b9", ms=9, body="new one"), msg("b9", ms=9, body="same id twice")]
        assert await store.add_messages(again) == {"b9"}
        assert await store.add_messages([]) == set()
        bodies = [m.body for m in await store.conversation("bob")]
        assert bodies == [f"burst {i}" for i in range(5)] + ["new one"]
