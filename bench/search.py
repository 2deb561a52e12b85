"""How fast a search of the history is: the store query behind `mqchat search` and
the TUI's search, on a history of 100,000 messages (issue 14, acceptance 4: under
50 ms).

    .venv/bin/python bench/search.py [--messages 100000] [--queries 300] [--peers 20]

A history is built first in a temporary folder, through ``ChatStore.add_messages``
(so the search index fills as it does when messages arrive): MESSAGES messages
spread over PEERS conversations, a minute apart, each 3-15 words drawn from a
vocabulary of 5,000 made-up words with Zipf-like frequencies (a few words in many
messages, most in few), both directions. A few marker words are planted: ``zyxel``
in 10 messages, ``quokka`` in 1 % of them (all with ``peer03``, the peer of the
``--peer`` rows).

Then each row runs QUERIES searches through ``ChatStore.search`` (limit 50, newest
first, the messages built as ``ChatMessage``s: what `mqchat search` prints), one
at a time on one open store, after 10 unmeasured ones; times are
``time.perf_counter()`` around the awaited call. Rows: a random word of the
vocabulary each time (most searches), the rare and the 1 % marker, the most
common word (in a third of the messages), a two-letter prefix, two words, and
the rare and common ones within one conversation (``--peer``). The last figure
is how long the migration that gives an existing (version 4) file of the same
history its index takes, once. The report goes to stdout, progress to stderr;
exit status 0 (benches print, tests judge)."""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._report import Latency, latency_table  # noqa: E402
from mqchat.core.model import ChatMessage, DeliveryState, Direction  # noqa: E402
from mqchat.store import ChatStore  # noqa: E402

TARGET_MS = 50.0
VOCABULARY = 5000
RARE, ONE_PERCENT = "zyxel", "quokka"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "jo", "bu")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def vocabulary(rng: random.Random) -> list[str]:
    """VOCABULARY distinct words of 2-4 syllables, most frequent first."""
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda w: (len(w), w))


def history(n: int, peers: int, rng: random.Random, words: list[str]) -> list[ChatMessage]:
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf, s = 1
    rare_at = set(rng.sample(range(n), 10))
    messages = []
    for i in range(n):
        body = rng.choices(words, weights, k=rng.randint(3, 15))
        if i in rare_at:
            body.insert(rng.randrange(len(body)), RARE)
        if i % 100 == 3:  # all in peer03's conversation
            body.append(ONE_PERCENT)
        peer = f"peer{i % peers:02d}"
        out = rng.random() < 0.5
        messages.append(
            ChatMessage(
                id=f"bench-{i:07d}",
                peer=peer,
                direction=Direction.OUT if out else Direction.IN,
                sender="alice" if out else peer,
                recipient=peer if out else "alice",
                ts=T0 + timedelta(minutes=i),
                body=" ".join(body).capitalize() + ".",
                state=DeliveryState.READ,
            )
        )
    return messages


async def build(path: Path, messages: list[ChatMessage]) -> float:
    started = time.perf_counter()
    store = await ChatStore.open(path)
    try:
        for start in range(0, len(messages), 5000):
            await store.add_messages(messages[start : start + 5000])
    finally:
        await store.close()
    return time.perf_counter() - started


async def measure(
    store: ChatStore, label: str, queries: int, pick: Callable[[], tuple[str, str | None]]
) -> tuple[Latency, float]:
    """The row ``label``, and the mean number of hits (up to 50) per search."""
    for _ in range(10):
        text, peer = pick()
        await store.search(text, peer=peer)
    times, hits = [], 0
    for _ in range(queries):
        text, peer = pick()
        started = time.perf_counter()
        found = await store.search(text, peer=peer)
        times.append(time.perf_counter() - started)
        hits += len(found)
    return Latency.of(label, times), hits / queries


def as_version_4(path: Path, copy: Path) -> None:
    """``copy``: the history at ``path`` as mqchat with schema version 4 left it."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(path, copy)
    raw = sqlite3.connect(copy, isolation_level=None)
    try:
        # What versions 9 (keys), 8 (rooms) and 7 (edits and deletes) added, then 6 and 5.
        for table in ("peer_keys", "peer_trust", "rooms", "room_receipts", "outgoing_changes"):
            raw.execute(f"DROP TABLE {table}")
        for column in ("sealed", "edited_at_ms", "deleted"):
            raw.execute(f"ALTER TABLE messages DROP COLUMN {column}")
        for trigger in ("delete", "update"):
            raw.execute(f"DROP TRIGGER message_search_{trigger}")
        raw.execute("DELETE FROM meta WHERE key = 'search_indexed_rowid'")
        raw.execute("DROP TABLE message_search")
        raw.execute("DROP INDEX ix_messages_ts")
        raw.execute("DROP INDEX ix_messages_conversation_state")
        raw.execute("PRAGMA user_version = 4")
        raw.execute("VACUUM")
    finally:
        raw.close()


async def migrate(path: Path) -> float:
    started = time.perf_counter()
    store = await ChatStore.open(path)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def run(args: argparse.Namespace, folder: Path) -> None:
    rng = random.Random(args.seed)
    words = vocabulary(rng)
    say(f"making {args.messages:,} messages…")
    messages = history(args.messages, args.peers, rng, words)
    path = folder / "alice.sqlite3"
    built = await build(path, messages)
    size_mb = path.stat().st_size / 1e6
    say(f"stored in {built:.1f} s; searching…")
    common = words[0]
    in_common = sum(f" {common} " in f" {m.body.lower()[:-1]} " for m in messages)
    rows: list[tuple[Latency, float]] = []
    store = await ChatStore.open(path)
    try:
        cases: list[tuple[str, Callable[[], tuple[str, str | None]]]] = [
            ("a random word of the vocabulary", lambda: (rng.choice(words), None)),
            (f"the rare word ({RARE}, 10 messages)", lambda: (RARE, None)),
            (f"a word in 1 % ({ONE_PERCENT})", lambda: (ONE_PERCENT, None)),
            (f"the most common word ({in_common / len(messages):.0%})", lambda: (common, None)),
            ("a two-letter prefix", lambda: (rng.choice(_SYLLABLES), None)),
            ("two random words", lambda: (" ".join(rng.sample(words[:500], 2)), None)),
            (f"--peer: the rare word ({RARE})", lambda: (RARE, "peer03")),
            (f"--peer: a word in 1 % ({ONE_PERCENT})", lambda: (ONE_PERCENT, "peer03")),
            ("--peer: the most common word", lambda: (common, "peer03")),
        ]
        for label, pick in cases:
            rows.append(await measure(store, label, args.queries, pick))
            say(f"  {label}: p50 {rows[-1][0].p50:.2f} ms")
    finally:
        await store.close()
    say("timing the migration of a version 4 file…")
    old = folder / "old.sqlite3"
    as_version_4(path, old)
    migrated = await migrate(old)

    print(
        f"mqchat search: {args.messages:,} messages in {args.peers} conversations "
        f"({size_mb:.0f} MB with its index), {args.queries} searches per row, limit 50"
    )
    print(
        f"machine: {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}\n"
    )
    table = latency_table("ChatStore.search (ms)", [row for row, _ in rows], {})
    lines = table.splitlines()
    print(f"{lines[0]}  {'hits':>5}")
    print(lines[1] + "-------")
    for line, (_, hits) in zip(lines[2:], rows, strict=True):
        print(f"{line}  {hits:>5.1f}")
    worst = max(row.p99 for row, _ in rows)
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"\ntarget p99 < {TARGET_MS:.0f} ms on every row: {verdict} (worst p99 {worst:.1f} ms)")
    rate = args.messages / built
    print(f"stored the history in {built:.1f} s ({rate:,.0f} msg/s, batches of 5,000)")
    print(f"migration of a version 4 file of it (building the index): {migrated:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--peers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="mqchat-search-bench-"))
    try:
        asyncio.run(run(args, folder))
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
