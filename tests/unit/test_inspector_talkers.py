"""Top talkers from running counts: msg/s and bytes/s per subtree over the window,
at depths 1 to 3, busiest first; counts that went down are no traffic."""

from __future__ import annotations

import pytest

from mqchat.inspector.talkers import Talker, TalkerMeter, prefix


def test_prefix() -> None:
    assert prefix("a/b/c/d", 1) == "a"
    assert prefix("a/b/c/d", 3) == "a/b/c"
    assert prefix("a/b", 3) == "a/b"
    assert prefix("/x/y", 1) == ""
    assert prefix("a//c/d", 2) == "a/"


def test_rates_per_subtree_at_each_depth() -> None:
    meter = TalkerMeter(window=5.0)
    meter.sample(0.0, [("home/kitchen/temp", 100, 1_000), ("home/hall/temp", 10, 100)])
    assert not meter.ready and [t.rate for t in meter.top(1)] == [0.0]
    meter.sample(
        2.0,
        [
            ("home/kitchen/temp", 300, 3_000),  # +200 in 2 s
            ("home/hall/temp", 30, 300),  # +20
            ("plant/pump/a/b", 50, 10_000),  # new: all 50 since the first sample
        ],
    )
    assert meter.ready
    assert meter.top(1) == [
        Talker("home", 110.0, 1_100.0, 2),
        Talker("plant", 25.0, 5_000.0, 1),
    ]
    assert meter.top(3) == [
        Talker("home/kitchen/temp", 100.0, 1_000.0, 1),
        Talker("plant/pump/a", 25.0, 5_000.0, 1),
        Talker("home/hall/temp", 10.0, 100.0, 1),
    ]
    assert [t.prefix for t in meter.top(2, limit=1)] == ["home/kitchen"]


def test_the_window_slides() -> None:
    meter = TalkerMeter(window=2.0)
    for second in range(10):
        # 1000 msg/s for 5 s, then silence
        meter.sample(float(second), [("a/b", min(second, 5) * 1000, 0)])
    assert meter.top(1)[0].rate == 0.0
    meter.sample(10.0, [("a/b", 5000, 0)])
    assert meter.top(1)[0].rate == 0.0


def test_counts_that_went_down_are_no_traffic() -> None:
    meter = TalkerMeter()
    meter.sample(0.0, [("a", 500, 5_000), ("b", 10, 10)])
    meter.sample(1.0, [("b", 20, 20)])  # "a" forgotten, capture cleared…
    meter.sample(2.0, [("a", 3, 30), ("b", 30, 30)])
    rates = {t.prefix: t.rate for t in meter.top(1)}
    assert rates == {"b": 10.0, "a": 0.0}


def test_a_clock_that_stands_still_replaces_the_sample() -> None:
    meter = TalkerMeter()
    meter.sample(1.0, [("a", 1, 1)])
    meter.sample(1.0, [("a", 5, 5)])
    assert not meter.ready
    meter.sample(2.0, [("a", 9, 9)])
    assert meter.top(1)[0].rate == 4.0


def test_depth_is_checked() -> None:
    with pytest.raises(ValueError):
        TalkerMeter().top(4)
