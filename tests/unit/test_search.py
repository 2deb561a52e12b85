"""Searching the history: the matching rule (mqchat.core.search), the store's FTS5
index that runs it, and the in-memory backend that must agree with the store."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.core.search import MAX_SEARCH_WORDS, body_matches, search_words
from mqchat.store import ChatStore
from mqchat.store import search as search_module
from mqchat.store.search import fts_query, walks
from tests.support.fake_backend import FakeBackend

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)

# Text that means something to FTS5 (or to SQL, or to a terminal): each must be taken
# as the words in it, never as syntax, and never raise.
HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "hello*",
    "-hello",
    "hello -world",
    "NEAR(",
    "NEAR(hello world, 2)",
    "hello AND",
    "OR",
    "NOT hello",
    "^hello",
    "body:hello",
    "{body}: hello",
    "(hello",
    "hello)",
    "hello + world",
    "\x00",
    "hello\x00world",
    "'; DROP TABLE messages; --",
    "\x1b[2J[red]hello[/red]",
    "\udcff",
    "hello" * 20_000,
    "a " * 5_000,
    "",
    "   ",
]


def message(
    id: str, body: str, *, peer: str = "bob", seconds: int = 0, out: bool = False
) -> ChatMessage:
    return ChatMessage(
        id=id,
        peer=peer,
        direction=Direction.OUT if out else Direction.IN,
        sender="alice" if out else peer,
        recipient=peer if out else "alice",
        ts=T0 + timedelta(seconds=seconds),
        body=body,
        state=DeliveryState.SENT if out else DeliveryState.RECEIVED,
    )


WAYS = {
    # way: (messages in the window per hit asked for, walk when counted?)
    "chosen": (None, None),
    "window-only": (10**6, None),  # the window holds every message
    "small-window": (1, None),  # falls back more often than not
    "few": (0, False),
    "many": (0, True),
}


@pytest.fixture(params=list(WAYS))
async def store(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ChatStore]:
    """A new store; its searches take the ways they choose, or always one of them
    (each must give the same hits in the same order)."""
    window, walk = WAYS[request.param]
    if window is not None:
        monkeypatch.setattr(search_module, "WINDOW_PER_HIT", window)
    if walk is not None:
        monkeypatch.setattr(search_module, "walks", lambda *_: walk)
    async with await ChatStore.open(tmp_path / "alice.sqlite3") as s:
        yield s


# -- the rule ---------------------------------------------------------------------------


def test_a_search_text_is_only_words() -> None:
    assert search_words('NEAR("pizza" -fri*, 2)') == ["NEAR", "pizza", "fri", "2"]
    assert search_words("don't") == ["don", "t"]
    assert search_words("café über 東京 ٣") == ["café", "über", "東京", "٣"]
    assert search_words("* -- \" ' () 🍕") == []
    assert len(search_words("w " * 100)) == MAX_SEARCH_WORDS


def test_every_word_must_start_a_word_of_the_body() -> None:
    words = search_words("pizz FRI")
    assert body_matches(words, "Pizza on Friday?")
    assert not body_matches(words, "Pizza on Monday")
    assert not body_matches(search_words("izza"), "Pizza")  # starts, not contains
    assert body_matches(search_words("CAFE"), "un café")
    assert body_matches(search_words("café"), "CAFE")
    assert not body_matches([], "anything")


def test_the_fts_query_quotes_every_word() -> None:
    assert fts_query('pizz "fri') == '"pizz"* "fri"*'
    assert fts_query("NEAR(x") == '"NEAR"* "x"*'
    assert fts_query("*-") is None


def test_a_common_word_walks_and_a_rare_one_is_looked_up() -> None:
    assert walks(hits=5_000, messages=100_000, limit=50)
    assert not walks(hits=500, messages=100_000, limit=50)
    assert not walks(hits=5_000, messages=1_000_000, limit=500)


# -- the store --------------------------------------------------------------------------


async def test_finds_words_by_their_start_ignoring_case_and_accents(store: ChatStore) -> None:
    await store.add_messages(
        [
            message("m1", "Pizza on Friday?"),
            message("m2", "un café, s'il vous plaît", seconds=1),
            message("m3", "nothing to see", seconds=2),
        ]
    )
    assert [m.id for m in await store.search("pizz fri")] == ["m1"]
    assert [m.id for m in await store.search("FRIDAY pizza")] == ["m1"]  # any order
    assert [m.id for m in await store.search("cafe plait")] == ["m2"]
    assert await store.search("pizza monday") == []
    assert await store.search("izza") == []
    found = await store.search("pizza")
    assert found == [message("m1", "Pizza on Friday?")]  # the whole message


async def test_hits_are_newest_first_within_a_peer_and_page_by_page(store: ChatStore) -> None:
    await store.add_messages(
        [message(f"b{n:02d}", f"hello bob {n}", seconds=n) for n in range(30)]
        + [message(f"c{n:02d}", f"hello carol {n}", peer="carol", seconds=n) for n in range(5)]
        + [message(id, "hello tie", peer="dave", seconds=100) for id in ("tie-a", "tie-b")]
    )
    first = await store.search("hello", limit=3)
    assert [m.id for m in first] == ["tie-b", "tie-a", "b29"]
    assert [m.id for m in await store.search("hello", peer="carol")] == [
        f"c{n:02d}" for n in reversed(range(5))
    ]
    pages: list[str] = []
    before = None
    for _ in range(6):  # 30 hits: 5 pages, then an empty one
        page = await store.search("hello", peer="bob", before=before, limit=7)
        if not page:
            break
        pages += [m.id for m in page]
        before = page[-1]
    assert pages == [f"b{n:02d}" for n in reversed(range(30))]
    with pytest.raises(ValueError, match="at least 1"):
        await store.search("hello", limit=0)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:20]))
async def test_hostile_text_is_words_and_never_an_error(store: ChatStore, text: str) -> None:
    bodies = {"m1": "hello world", "m2": 'NEAR(hello world, 2) "quoted" -minus *star* body:x'}
    await store.add_messages([message(id, body) for id, body in bodies.items()])
    words = search_words(text)
    expected = {id for id, body in bodies.items() if body_matches(words, body)}
    assert {m.id for m in await store.search(text)} == expected
    if text.strip() in ("hello*", "-hello", "(hello", "^hello"):
        assert expected == {"m1", "m2"}  # the words still count


async def test_the_index_follows_what_is_stored(store: ChatStore) -> None:
    assert await store.add_message(message("m1", "first words"))
    assert not await store.add_message(message("m1", "first words"))  # a redelivery
    await store.add_messages([message("m2", "second words", seconds=1)])
    await store.set_state("m1", DeliveryState.READ)  # a state change is not a new row
    assert [m.id for m in await store.search("words")] == ["m2", "m1"]
    assert [m.state for m in await store.search("first")] == [DeliveryState.READ]


async def test_a_file_searched_by_another_program_stays_usable(tmp_path: Path) -> None:
    # The index lives in the file: a plain SQLite client sees and checks it.
    path = tmp_path / "alice.sqlite3"
    async with await ChatStore.open(path) as store:
        await store.add_messages([message(f"m{n}", f"word{n % 7} text") for n in range(200)])
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO message_search (message_search) VALUES ('integrity-check')")
        (hits,) = raw.execute(
            "SELECT count(*) FROM message_search WHERE message_search MATCH 'word3'"
        ).fetchone()
    assert hits == len([n for n in range(200) if n % 7 == 3])


# -- the fake backend follows the same rule ----------------------------------------------

ALPHABET = ["pizza", "Pizzeria", "friday", "FRI", "café", "cafe", "naïve", "x", "x2", "42"]
GLUE = [" ", ", ", "-", "'", '"', "*", "(", ")", ": ", "\n"]


async def test_the_fake_backend_finds_what_the_store_finds(store: ChatStore) -> None:
    rng = random.Random(14)
    messages = []
    for n in range(300):
        parts = [rng.choice(ALPHABET) + rng.choice(GLUE) for _ in range(rng.randint(1, 6))]
        messages.append(message(f"m{n:03d}", "".join(parts), seconds=n % 50))
    await store.add_messages(messages)
    fake = FakeBackend()
    fake.messages["bob"] = list(messages)
    queries = ["pizz", "PIZZA fri", "cafe", "naive", "x", "4", "f c", '"pizza*', "-x2", "zzz"]
    for text in queries + [rng.choice(ALPHABET)[: rng.randint(1, 4)] for _ in range(40)]:
        from_store = await store.search(text, limit=500)
        assert from_store == await fake.search(text, limit=500), text
