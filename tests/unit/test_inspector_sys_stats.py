"""The broker stats of ``$SYS`` topics: headline figures, the newest value of each
topic, and hostile values made safe."""

from __future__ import annotations

from mqchat.inspector.capture import Captured
from mqchat.inspector.sys_stats import VALUE_CHARS, headline_figures, sys_rows, sys_value


def msg(seq: int, topic: str, payload: bytes) -> Captured:
    return Captured(seq, 0.0, topic, payload, len(payload))


def test_newest_value_per_sys_topic_sorted_and_other_topics_left_out():
    rows = sys_rows(
        [
            msg(1, "$SYS/broker/uptime", b"5 seconds"),
            msg(3, "$SYS/broker/clients/connected", b"2"),
            msg(2, "$SYS/broker/clients/connected", b"1"),
            msg(4, "home/temp", b"21"),
            msg(5, "$SYSTEM/x", b"no"),
        ]
    )
    assert list(rows) == ["$SYS/broker/clients/connected", "$SYS/broker/uptime"]
    assert rows["$SYS/broker/clients/connected"].payload == b"2"


def test_headlines_in_their_order_only_when_present():
    rows = sys_rows(
        [
            msg(1, "$SYS/broker/uptime", b"5 seconds"),
            msg(2, "$SYS/broker/version", b"mosquitto version 2.0.11"),
            msg(3, "$SYS/broker/messages/received", b"812404"),
        ]
    )
    figures = headline_figures(rows)
    assert [(f.label, f.value) for f in figures] == [
        ("version", "mosquitto version 2.0.11"),
        ("uptime", "5 seconds"),
        ("messages received", "812,404"),
    ]


def test_values_are_one_safe_line_and_cut():
    shown = sys_value(b"\x1b[2Jline one\nline two\xff")
    assert "\x1b" not in shown and "\n" not in shown and "line one line two" in shown
    long = sys_value(b"9" * 1000)
    assert len(long) == VALUE_CHARS and long.endswith("…")
