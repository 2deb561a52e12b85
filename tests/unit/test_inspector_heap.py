"""The inspector gives a flood's freed memory back after enough churn: when the
flood pauses, or every few seconds while it lasts; never for a trickle."""

from __future__ import annotations

import sys

import pytest

from mqchat.inspector.heap import CHURN, WHILE_FLOODING_S, HeapTrim, _malloc_trim


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def trimmer() -> tuple[HeapTrim, list[int], Clock]:
    calls: list[int] = []
    clock = Clock()
    return HeapTrim(trim=lambda pad: calls.append(pad) or 1, clock=clock), calls, clock


def test_a_trickle_never_trims() -> None:
    heap, calls, clock = trimmer()
    for total in range(0, CHURN - 1, 1000):
        clock.now += 10
        assert not heap.after(0, total)
    assert calls == []


def test_once_the_flood_pauses_it_trims_once() -> None:
    heap, calls, _ = trimmer()
    assert not heap.after(20_000, CHURN)  # still flooding, too soon
    assert heap.after(0, CHURN)  # a tick that took nothing
    assert not heap.after(0, CHURN)  # nothing new since
    assert calls == [0]


def test_a_long_flood_trims_every_few_seconds() -> None:
    heap, calls, clock = trimmer()
    total = 0
    for _ in range(200):  # 20 s of ticks, 20,000 messages each
        clock.now += 0.1
        total += 20_000
        heap.after(20_000, total)
    assert 20 / WHILE_FLOODING_S - 1 <= len(calls) <= 20 / WHILE_FLOODING_S + 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_glibc_s_malloc_trim_is_found_and_runs() -> None:
    trim = _malloc_trim()
    assert trim is not None, "malloc_trim not found in this Linux's C library"
    assert trim(0) in (0, 1)
