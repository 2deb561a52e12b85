"""`mqchat probe`'s report as people and scripts read it (core/probe.py): one row
per capability, what the CONNACK said before the note, long notes wrapped, text
from the broker shown literally; one JSON object with every capability by key."""

from __future__ import annotations

import json

from mqchat.core.probe import Finding, ProbeReport, report_object, report_table, shown


def _report(*findings: Finding, problems: tuple[str, ...] = ()) -> ProbeReport:
    return ProbeReport("127.0.0.1:1883", "5", findings, 0.4321, problems)


def test_values_read_as_words() -> None:
    assert [shown(v) for v in (True, False, None, 2, [], [".", " "], "3.1.1")] == [
        "yes",
        "no",
        "unknown",
        "2",
        "none",
        ".,  ",
        "3.1.1",
    ]


def test_one_row_per_capability_with_what_the_connack_said_first() -> None:
    lines = report_table(
        _report(
            Finding("protocol", "MQTT version", "5", "MQTT 5 accepted"),
            Finding("max_qos", "maximum QoS", 1, "a QoS 2 publish closed the connection", said=1),
            Finding("sys", "$SYS topics", None, "no answer within 4 s"),
        )
    )
    assert lines == [
        "127.0.0.1:1883: MQTT 5, probed in 0.43 s",
        "CAPABILITY    VALUE    NOTE",
        "MQTT version  5        MQTT 5 accepted",
        "maximum QoS   1        CONNACK says 1; a QoS 2 publish closed the connection",
        "$SYS topics   unknown  no answer within 4 s",
    ]


def test_a_long_note_wraps_under_itself_and_nothing_is_lost() -> None:
    note = "'.' closed the connection (Unspecified error); space closed the connection"
    lines = report_table(
        _report(Finding("topic_refused", "topic chars", ["."], note, text="'.'")), width=50
    )
    rows = lines[2:]
    assert rows[0].startswith("topic chars  '.'    '.' closed")
    assert all(line.startswith(" " * 20) for line in rows[1:])
    assert " ".join(part.strip() for part in [rows[0][20:], *rows[1:]]) == note
    assert all(len(line) <= 50 for line in rows)


def test_broker_text_cannot_drive_the_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07$SYS/broker/version: evil\nsecond line"
    lines = report_table(
        _report(Finding("sys", "$SYS topics", True, hostile), problems=("left\x1b[31m",))
    )
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert any("evil second line" in line for line in lines)  # one row, not two
    assert lines[-1] == "warning: left[31m"


def test_json_holds_every_capability_by_key() -> None:
    report = _report(
        Finding("protocol", "MQTT version", "3.1.1", "MQTT 5 refused", text="3.1.1 only"),
        Finding("topic_refused", "topic characters refused", [".", " "], "closed", text="x"),
        Finding("session", "persistent sessions", None, "refused", said="60 s"),
        problems=("the retained message on 'a' may be left",),
    )
    obj = json.loads(json.dumps(report_object(report)))
    assert obj == {
        "broker": "127.0.0.1:1883",
        "protocol": "5",
        "elapsed_s": 0.432,
        "capabilities": {
            "protocol": {"value": "3.1.1", "said": None, "note": "MQTT 5 refused"},
            "topic_refused": {"value": [".", " "], "said": None, "note": "closed"},
            "session": {"value": None, "said": "60 s", "note": "refused"},
        },
        "problems": ["the retained message on 'a' may be left"],
    }
    assert report.get("session").said == "60 s"
