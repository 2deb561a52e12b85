"""The inspector's model keeps the store, the tree and the meter in step."""

from __future__ import annotations

import pytest

from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.model import InspectorModel


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_one_ingest_feeds_store_tree_and_meter() -> None:
    clock = Clock()
    model = InspectorModel(clock=clock)
    for i in range(30):
        model.ingest(f"home/room{i % 3}/t", b"%d" % i, qos=1)
        clock.now += 0.1
    assert model.total == 30 and model.store.kept == 30
    assert model.tree.count("home") == 30 and model.tree.count("home/room1") == 10
    assert model.rate() == pytest.approx(10.0)  # 30 messages over the 3 s since the first
    assert model.store.history("home/room2/t")[-1].ts == pytest.approx(1_700_000_002.9)


def test_topics_the_store_forgets_leave_the_tree() -> None:
    model = InspectorModel(CaptureStore(max_topics=2))
    for topic in ["a/1", "a/2", "b/1"]:
        model.ingest(topic, b"x", ts=1.0)
    assert model.tree.topics_under("a") == ["a/2"]
    assert model.tree.topic_count == model.store.topic_count == 2
    assert model.total == 3


def test_the_tree_sees_the_original_size_of_a_cut_payload() -> None:
    model = InspectorModel(CaptureStore(payload_cap=4, max_bytes=100))
    model.ingest("t", b"abcdefgh", ts=1.0)
    assert model.tree.visible_rows(set())[0].last == "abcd…"


def test_clear() -> None:
    model = InspectorModel()
    model.ingest("t", b"1")
    model.clear()
    assert model.total == 0 and model.tree.total == 0 and model.rate() == 0.0
