"""Deep topics in the inspector's model: memory and time linear in a topic's length
(a 30,000-level topic must not cost a gigabyte), levels beyond MAX_LEVELS folded
into one node marked as cut, and full names built on demand."""

from __future__ import annotations

import time
import tracemalloc

from mqchat.inspector.model import InspectorModel
from mqchat.inspector.topic_tree import MAX_LEVELS, TopicTree, folded_levels


def deep(levels: int, name: str = "a") -> str:
    return "/".join([name] * levels)


def ingest_cost(topic: str) -> tuple[int, float]:
    """Peak bytes allocated and seconds taken to capture one message on ``topic``."""
    model = InspectorModel()
    tracemalloc.start()
    started = time.perf_counter()
    model.ingest(topic, b"1")
    model.tree.visible_rows({"a", "a/a"})
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert model.tree.count(topic) == 1
    return peak, took


def test_memory_for_one_deep_topic_is_linear_in_its_length() -> None:
    small, _ = ingest_cost(deep(3_000))
    big, took = ingest_cost(deep(30_000))
    assert big < 2_000_000, f"one 60 kB topic took {big / 1e6:.1f} MB"
    assert big < 15 * small, f"10x the levels took {big / small:.0f}x the memory"
    assert took < 0.5


def test_levels_beyond_the_bound_are_one_node_marked_as_cut() -> None:
    topic = deep(MAX_LEVELS + 44, "x")
    tree = TopicTree()
    tree.add(topic, b"v")
    opened = {deep(n, "x") for n in range(1, MAX_LEVELS)}
    rows = tree.visible_rows(opened)
    assert len(rows) == MAX_LEVELS
    assert [r.folded for r in rows[:-1]] == [0] * (MAX_LEVELS - 1)
    cut = rows[-1]
    assert cut.folded == 45 == folded_levels(topic)
    assert cut.path == topic and cut.is_topic and not cut.has_children
    assert cut.label == deep(45, "x")
    assert tree.topics_under("x") == [topic]
    tree.forget(topic)
    assert tree.visible_rows(opened) == [] and tree.total == 0


def test_topics_differing_beyond_the_bound_stay_apart() -> None:
    head = deep(MAX_LEVELS + 10)
    tree = TopicTree()
    tree.add(f"{head}/b", b"1")
    tree.add(f"{head}/c", b"2")
    tree.add(f"{head}/c", b"3")
    assert tree.count(f"{head}/b") == 1 and tree.count(f"{head}/c") == 2
    assert tree.topics_under("a") == [f"{head}/b", f"{head}/c"]
    assert folded_levels(deep(MAX_LEVELS)) == 0 and folded_levels(deep(MAX_LEVELS + 1)) == 2
