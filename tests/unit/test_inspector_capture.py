"""The capture store: the newest messages per topic, the global caps on messages, bytes and
topics, totals that count everything, and the views the live log reads."""

from __future__ import annotations

import random
from itertools import count

import pytest

from mqchat.core.topic_filter import InvalidFilter
from mqchat.inspector.capture import LAST_PAYLOAD_CAP, Captured, CaptureStore


def fixed_clock() -> float:
    return 1_700_000_000.0


def kept_in_rings(store: CaptureStore) -> int:
    """Messages reachable through every topic's chain (and each topic's own count)."""
    total = 0
    for stats in store.topics():
        kept = list(stats.kept_messages())
        assert len(kept) == stats.kept
        assert [m.seq for m in kept] == sorted(m.seq for m in kept)
        total += len(kept)
    return total


def test_ingest_returns_the_captured_message() -> None:
    store = CaptureStore(clock=fixed_clock)
    props = {"ContentType": "application/json", "UserProperty": [("k", "v")]}
    message = store.ingest("a/b", b"hello", 1, True, props)
    assert isinstance(message, Captured)
    assert (message.seq, message.ts, message.topic, message.payload) == (
        1,
        1_700_000_000.0,
        "a/b",
        b"hello",
    )
    assert (message.size, message.qos, message.retain, message.properties) == (5, 1, True, props)
    assert not message.truncated
    assert "a/b" in repr(message)
    assert store.ingest("a/b", b"x", ts=5.0).seq == 2


def test_payloads_beyond_the_cap_are_cut_and_their_size_remembered() -> None:
    store = CaptureStore(payload_cap=8, max_bytes=1024)
    message = store.ingest("t", bytes(range(20)))
    assert message.payload == bytes(range(8)) and message.size == 20 and message.truncated
    assert store.kept_bytes == 8 and store.total_bytes == 20


def test_one_topic_string_is_shared_by_its_messages() -> None:
    store = CaptureStore()
    first = store.ingest("".join(["a", "/b"]), b"1")
    second = store.ingest("".join(["a/", "b"]), b"2")
    assert first.topic is second.topic


def test_per_topic_rings_keep_the_newest() -> None:
    store = CaptureStore(per_topic=3)
    for i in range(10):
        store.ingest("t", str(i).encode())
    store.ingest("u", b"u")
    assert [m.payload for m in store.history("t")] == [b"7", b"8", b"9"]
    assert store.kept == 4 and kept_in_rings(store) == 4
    stats = store.stats("t")
    assert stats is not None and stats.count == 10 and stats.bytes == 10
    assert store.last("t") is not None and store.last("t").payload == b"9"  # type: ignore[union-attr]
    assert store.history("nope") == [] and store.last("nope") is None
    assert store.total == 11


def test_the_global_cap_evicts_the_oldest_message_of_all() -> None:
    store = CaptureStore(per_topic=10, max_kept=5)
    for i, topic in enumerate(["a", "b", "a", "c", "b", "a", "d"]):
        store.ingest(topic, str(i).encode())
    assert store.kept == 5
    assert [m.seq for m in store.recent(100)] == [3, 4, 5, 6, 7]
    assert [m.payload for m in store.history("a")] == [b"2", b"5"]
    assert store.history("b") == [store.recent(100)[2]]
    stats = store.stats("a")
    assert stats is not None and stats.count == 3  # totals remember what was evicted


def test_the_byte_cap_evicts_oldest_first() -> None:
    store = CaptureStore(payload_cap=100, max_bytes=250)
    for i in range(5):
        store.ingest(f"t{i}", bytes([i]) * 100)
    assert store.kept_bytes <= 250
    assert [m.topic for m in store.recent(10)] == ["t3", "t4"]


def test_a_topic_whose_ring_was_emptied_keeps_a_short_last_message() -> None:
    store = CaptureStore(max_kept=1, payload_cap=4096, max_bytes=8192)
    store.ingest("big", b"x" * 4000)
    store.ingest("other", b"y")
    last = store.last("big")
    assert store.history("big") == []
    assert last is not None and len(last.payload) == LAST_PAYLOAD_CAP and last.size == 4000


def test_topics_beyond_the_cap_are_forgotten_least_recent_first() -> None:
    forgotten: list[str] = []
    store = CaptureStore(max_topics=3, on_forget=forgotten.append)
    for topic in ["a", "b", "c", "a", "d", "e"]:
        store.ingest(topic, b"1")
    assert forgotten == ["b", "c"]
    assert [s.topic for s in store.topics()] == ["a", "d", "e"]
    assert store.topic_count == 3 and store.forgotten_topics == 2
    assert store.total == 6 and store.kept == 4 and kept_in_rings(store) == 4
    assert store.history("b") == []


def test_a_forgotten_topic_can_come_back_without_its_old_messages() -> None:
    store = CaptureStore(max_topics=1)
    store.ingest("a", b"old")
    store.ingest("b", b"b")
    store.ingest("a", b"new")
    assert [m.payload for m in store.history("a")] == [b"new"]
    assert [m.payload for m in store.recent(10)] == [b"new"]
    stats = store.stats("a")
    assert stats is not None and stats.count == 1


def test_a_removed_topic_leaves_no_message_behind() -> None:
    forgotten: list[str] = []
    store = CaptureStore(max_kept=4, on_forget=forgotten.append)
    for i in range(3):
        store.ingest("$SYS/broker/uptime", f"{i} seconds".encode())
        store.ingest("home/a", b"1")
    assert store.remove("$SYS/broker/uptime")
    assert not store.remove("$SYS/broker/uptime")  # once
    assert forgotten == ["$SYS/broker/uptime"]  # the trees hear of it
    assert store.stats("$SYS/broker/uptime") is None
    assert [m.topic for m in store.recent(10)] == ["home/a"] * 2  # 2 of 3 kept before
    assert store.kept == 2 and kept_in_rings(store) == 2
    assert store.kept_bytes == 2 and store.total_bytes == 3
    assert store.forgotten_topics == 0  # not a topic lost to the cap
    for _ in range(5):  # its stale places in the arrival order are skipped
        store.ingest("home/b", b"22")
    assert store.kept == 4 and kept_in_rings(store) == 4
    store.ingest("$SYS/broker/uptime", b"9 seconds")
    assert [m.payload for m in store.history("$SYS/broker/uptime")] == [b"9 seconds"]


def test_recent_filters_by_topic_and_payload_text() -> None:
    store = CaptureStore()
    store.ingest("home/kitchen/temp", b"21.5")
    store.ingest("home/hall/temp", b'{"alarm": "SMOKE"}')
    store.ingest("$SYS/broker/load", b"smoke test")
    store.ingest("office/temp", b"19")
    assert [m.topic for m in store.recent(10, "home/+/temp")] == [
        "home/kitchen/temp",
        "home/hall/temp",
    ]
    assert [m.topic for m in store.recent(10, "#")] == [
        "home/kitchen/temp",
        "home/hall/temp",
        "office/temp",
    ]
    assert [m.topic for m in store.recent(10, text="smoke")] == [
        "home/hall/temp",
        "$SYS/broker/load",
    ]
    assert [m.topic for m in store.recent(10, "$SYS/#", "SMOKE")] == ["$SYS/broker/load"]
    assert [m.topic for m in store.recent(10, "office/temp")] == ["office/temp"]
    assert [m.seq for m in store.recent(2)] == [3, 4]
    assert store.recent(0) == []
    with pytest.raises(InvalidFilter):
        store.recent(10, "home/#/x")


def test_clear_forgets_everything() -> None:
    store = CaptureStore()
    store.ingest("a", b"1")
    store.clear()
    assert (store.total, store.kept, store.kept_bytes, store.topic_count) == (0, 0, 0, 0)
    assert store.ingest("a", b"2").seq == 1


@pytest.mark.parametrize(
    "bounds",
    [{"per_topic": 0}, {"max_kept": 0}, {"max_topics": 0}, {"payload_cap": 100, "max_bytes": 10}],
)
def test_bounds_are_checked(bounds: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CaptureStore(**bounds)  # type: ignore[arg-type]


def test_a_flood_on_one_topic_does_not_grow_the_arrival_index() -> None:
    """The oldest kept message (on a quiet topic) blocks global eviction from the
    left, while the flood's own ring drops its messages: the index is compacted."""
    store = CaptureStore(per_topic=2, max_kept=100)
    store.ingest("quiet", b"q")
    for _ in range(10_000):
        store.ingest("flood", b"f")
        assert len(store._order) <= 2 * 100
    assert store.kept == 3
    assert [m.topic for m in store.recent(10)] == ["quiet", "flood", "flood"]


def test_a_random_workload_matches_a_simple_model() -> None:
    """Against lists: the newest ``per_topic`` per topic, then the newest ``max_kept``."""
    rng = random.Random(7)
    store = CaptureStore(per_topic=4, max_kept=30, max_topics=1000)
    log: list[tuple[int, str]] = []
    seq = count(1)
    for _ in range(3000):
        topic = f"t{int(rng.paretovariate(1.2)) % 40}"
        store.ingest(topic, b"p")
        log.append((next(seq), topic))
        per_topic: dict[str, list[int]] = {}
        for s, t in log:
            per_topic.setdefault(t, []).append(s)
        expected = sorted(s for seqs in per_topic.values() for s in seqs[-4:])[-30:]
        if len(log) % 97 == 0 or len(log) > 2900:
            assert [m.seq for m in store.recent(1000)] == expected
            assert store.kept == len(expected) == kept_in_rings(store)


def test_memory_stays_within_the_caps_over_300k_messages() -> None:
    """Counts, not RSS: 300k messages over 12k topics never keep more than the caps,
    and the arrival-order index stays within twice the message cap."""
    store = CaptureStore(per_topic=50, max_kept=20_000, max_topics=5_000, max_bytes=2 << 20)
    rng = random.Random(1)
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120))) for _ in range(64)]
    for i in range(300_000):
        # two thirds on 2k hot topics, the rest cycling through 10k cold ones
        topic = f"cold/{i * 7919 % 10_000}" if i % 3 == 0 else f"hot/{i % 2_000}"
        store.ingest(topic, payloads[i % 64])
        if i % 10_000 == 0:
            assert store.kept <= 20_000 and store.kept_bytes <= 2 << 20
            assert store.topic_count <= 5_000
            assert len(store._order) <= 2 * 20_000 + 1
    assert store.total == 300_000
    assert store.kept == kept_in_rings(store) <= 20_000
    assert store.kept_bytes == sum(
        len(m.payload) for s in store.topics() for m in s.kept_messages()
    )
    assert store.topic_count == 5_000
    assert store.forgotten_topics > 0
    assert max(s.kept for s in store.topics()) <= 50
    assert len(store.recent(100_000)) == store.kept
