"""The msg/s meter: a sliding window of one-second buckets on an injected clock."""

from __future__ import annotations

import pytest

from mqchat.inspector.rate import RateMeter


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_no_events_is_zero() -> None:
    assert RateMeter(clock=Clock()).rate() == 0.0


def test_a_steady_rate_is_measured_over_the_window() -> None:
    clock = Clock()
    meter = RateMeter(window=5.0, bucket=1.0, clock=clock)
    for _ in range(100):  # 10 s at 100 msg/s, in steps of 0.1 s
        meter.add(10)
        clock.now += 0.1
    assert meter.rate() == pytest.approx(100.0, rel=0.05)
    assert meter.total == 1000


def test_the_first_second_is_not_a_spike() -> None:
    clock = Clock()
    meter = RateMeter(clock=clock)
    meter.add(500)
    clock.now += 0.01
    assert meter.rate() == 500.0  # over at least one bucket, not 500 / 0.01 s


def test_a_burst_is_averaged_over_the_time_since_the_start_then_fades() -> None:
    clock = Clock()
    meter = RateMeter(window=5.0, clock=clock)
    meter.add(1000)
    clock.now += 2.0
    assert meter.rate() == pytest.approx(500.0)
    clock.now += 10.0
    assert meter.rate() == 0.0
    assert meter.total == 1000


def test_explicit_times_and_a_clock_that_steps_back() -> None:
    meter = RateMeter(window=2.0, bucket=0.5, clock=lambda: 0.0)
    meter.add(1, now=10.0)
    meter.add(1, now=9.0)  # counted in the current bucket
    meter.add(2, now=10.6)
    assert meter.rate(now=11.0) == pytest.approx(4 / 1.0)
    assert meter.window == 2.0


def test_reset_and_bounds() -> None:
    meter = RateMeter(clock=lambda: 5.0)
    meter.add(3)
    meter.reset()
    assert meter.rate() == 0.0 and meter.total == 0
    with pytest.raises(ValueError):
        RateMeter(window=1.0, bucket=2.0)
    with pytest.raises(ValueError):
        RateMeter(bucket=0.0)
