"""The accounting of ``mqchat bench`` (issue 17): what a payload carries, and lost,
duplicated, out of order, latency percentiles and rates by their definitions, with
made-up times so that each figure can be checked by hand."""

from __future__ import annotations

import pytest

from mqchat.core.bench import (
    HEADER_SIZE,
    Stamp,
    Stream,
    Tally,
    decode_stamp,
    encode_stamp,
    new_run_id,
    percentile,
    rate,
)
from mqchat.tools.bench import BenchPlan, BenchRun, SubPlan, SubRun
from mqchat.tools.bench_report import pub_report, report_lines, sub_report

MS = 1_000_000


def test_a_stamp_survives_the_payload_at_the_size_asked() -> None:
    stamp = Stamp(new_run_id(), 3, 123_456, 987_654_321_000)
    payload = encode_stamp(stamp, 200)
    assert len(payload) == 200
    assert decode_stamp(payload) == stamp


def test_a_size_below_the_stamp_gets_the_whole_stamp() -> None:
    stamp = Stamp("deadbeef", 9_999, 10**8 - 1, 2**63 - 1)
    payload = encode_stamp(stamp, 1)
    assert len(payload) <= HEADER_SIZE
    assert decode_stamp(payload) == stamp


@pytest.mark.parametrize(
    "payload",
    [
        b"", b"hello", b"mqb1", b"mqb1 run x 1 2 ", b"mqb1 r 1 2 ", b"\xff" * 80,
        b"mqb1 r 0 -5 0 ", b"mqb1 r 0 +5 0 ", b"mqb1 r 0 1_000 0 ", b"mqb1 r -1 5 0 ",
        b"mqb1 r 0 100000000 0 ",  # past the bitmap's bound: not a gigabyte of memory
        b"mqb1 \xc3\xa9 0 1 0 ", b"mqb1 r\x1b 0 1 0 ",
    ],
)  # fmt: skip
def test_foreign_payloads_are_not_stamps(payload: bytes) -> None:
    assert decode_stamp(payload) is None


def test_a_stream_counts_duplicates_and_late_ones_apart() -> None:
    stream = Stream()
    for seq in (0, 1, 3, 2, 2, 4, 0, 6):
        stream.add(seq)
    assert stream.unique == 6  # 0 1 2 3 4 6
    assert stream.duplicated == 2  # the second 2, the second 0
    assert stream.out_of_order == 1  # 2 after 3 (its duplicate is not counted again)
    assert stream.missing(8) == 2  # 5 and 7
    assert stream.missing() == 1  # without the count sent, only the gap 5 shows


def test_lost_counts_what_was_sent_and_never_received_per_publisher() -> None:
    tally = Tally()
    for pub, seqs in ((0, (0, 1, 2)), (1, (0, 2))):
        for seq in seqs:
            tally.add(encode_stamp(Stamp("r1", pub, seq, 0), 64), 1, same_clock=True)
    tally.add(b"not ours", 2, same_clock=True)
    assert tally.integrity("r1", [3, 4]) == {
        "received": 5,
        "lost": 2,  # publisher 1's 1 and 3
        "duplicated": 0,
        "out_of_order": 0,
    }
    # a publisher that nothing arrived from lost all it sent
    assert tally.integrity("r1", [3, 4, 7])["lost"] == 9
    assert (tally.received, tally.foreign) == (6, 1)


def test_latency_is_measured_on_one_clock_only_and_duplicates_add_none() -> None:
    tally = Tally()
    for seq, (sent, got) in enumerate([(0, 1), (0, 2), (0, 3), (0, 4)]):
        tally.add(encode_stamp(Stamp("r", 0, seq, sent * MS), 64), got * MS, same_clock=True)
    tally.add(encode_stamp(Stamp("r", 0, 0, 0), 64), 500 * MS, same_clock=True)  # a duplicate
    assert tally.latency_ms() == {"p50": 2.0, "p90": 4.0, "p99": 4.0, "max": 4.0}
    other = Tally()
    other.add(encode_stamp(Stamp("r", 0, 0, 0), 64), 5, same_clock=False)
    assert other.latency_ms() is None


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 90, 99, 100)] == [50, 90, 99, 100]
    assert percentile([7], 99) == 7
    assert percentile([1, 2, 3], 50) == 2
    with pytest.raises(ValueError):
        percentile([], 50)


def test_a_rate_is_a_count_over_its_own_window() -> None:
    assert rate(1000, 0, 500 * MS) == 2000.0  # half a second, not "the second it fell in"
    assert rate(1, 5, 5) is None  # no window, no rate
    assert rate(10, None, 5) is None


def _run() -> BenchRun:
    run = BenchRun(BenchPlan(count=4, rate=1000.0, qos=1), "r", "mqchat-bench/r", 1,
                   attempted=[4], complete=[4], refused=[0], first_ns=0,
                   last_complete_ns=4 * MS)  # fmt: skip
    fast, slow = Tally(), Tally()
    for seq in range(4):
        fast.add(encode_stamp(Stamp("r", 0, seq, seq * MS), 64), (seq + 1) * MS, same_clock=True)
    slow.add(encode_stamp(Stamp("r", 0, 0, 0), 64), 8 * MS, same_clock=True)
    run.receivers = [("subscriber", fast), ("slow subscriber", slow)]
    return run


def test_the_pub_report_says_offered_achieved_and_integrity_per_subscriber() -> None:
    report = pub_report(_run())
    assert report["offered_rate"] == 1000.0
    assert report["publish_rate"] == 1000.0  # 4 over 0..4 ms
    fast, slow = report["subscribers"]
    assert (fast["received"], fast["lost"], fast["received_rate"]) == (4, 0, 1000.0)
    assert (slow["received"], slow["lost"]) == (1, 3)
    text = "\n".join(report_lines(report))
    assert "lost 3" in text and "offered rate    1,000.0 msg/s" in text


def test_the_sub_report_rate_counts_intervals_and_loss_is_gaps() -> None:
    tally = Tally()
    for seq, at in ((0, 0), (2, 100), (1, 200)):
        tally.add(encode_stamp(Stamp("r", 0, seq, 0), 64), at * MS, same_clock=False)
    report = sub_report(SubRun(SubPlan(("mqchat-bench/#",)), tally, 0, 300 * MS))
    assert report["received_rate"] == 10.0  # 2 intervals in 200 ms
    assert report["runs"] == [
        {"run": "r", "received": 3, "lost": 0, "duplicated": 0, "out_of_order": 1}
    ]


def test_a_hostile_reason_is_shown_without_its_control_characters() -> None:
    run = _run()
    run.lost_connection = "gone\x1b[2J\x07"
    text = "\n".join(report_lines(pub_report(run)))
    assert "\x1b" not in text and "\x07" not in text
