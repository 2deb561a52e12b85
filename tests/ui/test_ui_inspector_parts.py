"""The inspector's pure parts, without a terminal: row and status rendering, the view
state (filter, bounded log, filtered tree, forgotten topics), the publish form's
parsing, and the JSON Lines export."""

from __future__ import annotations

import json

import pytest

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.core.topic_filter import InvalidFilter, InvalidTopic
from mqchat.inspector.backend import PublishRequest, Received
from mqchat.inspector.capture import Captured, CaptureStore
from mqchat.inspector.model import InspectorModel
from mqchat.inspector.topic_tree import TreeRow
from mqchat.inspector.view import LOG_ROWS, InspectorView, ViewFilter
from mqchat.screens.inspector.publish import parse_user_properties, request_from_form
from mqchat.screens.inspector.screen import export_jsonl
from mqchat.widgets.inspector.render import (
    StatusFigures,
    human_size,
    log_row,
    plural,
    status_left,
    status_right,
    tree_row,
)
from tests.support.fake_feed import T0


def msg(topic: str, payload: bytes, *, retain: bool = False, qos: int = 0) -> Captured:
    return Captured(1, T0, topic, payload, len(payload), qos, retain)


def received(topic: str, payload: bytes | str = b"x") -> Received:
    data = payload.encode() if isinstance(payload, str) else payload
    return Received(topic, data, 0, False, None, T0)


# -- rendering ----------------------------------------------------------------------------


def test_log_row_fits_and_is_safe():
    row = log_row(msg("a/\x1b[31m/b\nc", b"\x1b]0;x\x07hello", retain=True, qos=1), 60)
    assert row.cell_len <= 60
    assert row.plain.startswith("14:05:00.000  Q1 R     11 B  a/[31m/b⏎c  [hex] 1b 5d")
    assert "\x1b" not in row.plain and "\x07" not in row.plain and "\n" not in row.plain


def test_tree_row_shows_label_value_and_count():
    row = TreeRow("home/room1", 1, "room1", 41_220, True, True, "23.41", True)
    text = tree_row(row, 40).plain
    assert text.startswith("  ▾ room1  23.41")
    assert text.endswith("41,220")
    assert len(text) == 40


def test_status_line():
    figures = StatusFigures(
        broker="h:1",
        subscriptions={"home/#": 0, "$SYS/#": 1},
        total=812_404,
        rate=21_530.4,
        paused=True,
        connection=ConnectionChanged(ConnectionState.CONNECTED, protocol="3.1.1"),
        dropped=12,
    )
    assert status_left(figures).plain == "h:1 · subscribed: home/#  $SYS/# (QoS 1)"
    assert status_right(figures).plain == (
        "812,404 msgs · 21,530 msg/s · 12 dropped · paused: yes · ● connected MQTT 3.1.1"
    )


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 B"), (999, "999 B"), (12_345, "12.3 kB"), (2_500_000, "2.5 MB")]
)
def test_human_size(size, shown):
    assert human_size(size) == shown


def test_plural():
    assert plural(1, "message") == "1 message"
    assert plural(2000, "message") == "2,000 messages"


# -- the view state ---------------------------------------------------------------------


def test_view_filter_chooses_log_rows_and_tree_not_the_capture():
    view = InspectorView(InspectorModel(clock=lambda: T0))
    view.ingest([received("a/1", "hot"), received("a/2", "cold"), received("b/1", "hot")])
    view.set_filter(ViewFilter("a/+", "HOT"))
    assert [m.topic for m in view.log_rows] == ["a/1"]
    assert view.tree.topics_under("a") == ["a/1"]  # a/2 has no "hot" payload
    view.ingest([received("a/3", "hot!"), received("b/2", "hot")])
    assert [m.topic for m in view.log_rows] == ["a/1", "a/3"]
    assert view.tree.topics_under("a") == ["a/1", "a/3"]
    assert view.tree.topic_count == 2
    assert view.model.total == 5  # everything captured
    assert [m.topic for m in view.kept_in_view()] == ["a/1", "a/3"]
    view.set_filter(ViewFilter())
    assert len(view.log_rows) == 5
    assert view.tree is view.model.tree
    with pytest.raises(InvalidFilter):
        view.set_filter(ViewFilter("a/#/b"))


def test_view_text_filter_counts_only_matching_messages_in_the_tree():
    view = InspectorView(InspectorModel(clock=lambda: T0))
    view.ingest([received("a/1", "hot"), received("a/1", "cold"), received("b/1", "HOT")])
    view.set_filter(ViewFilter(None, "hot"))
    assert (view.tree.topics_under("a"), view.tree.topics_under("b")) == (["a/1"], ["b/1"])
    assert view.tree.count("a/1") == 1
    view.ingest([received("a/1", "hot again"), received("a/1", "cold")])
    assert view.tree.count("a/1") == 2
    row = next(r for r in view.tree.visible_rows({"a"}) if r.path == "a/1")
    assert row.last == "hot again"
    view.set_filter(ViewFilter("a/#"))  # a topic alone counts every message
    assert view.tree.count("a/1") == 4


def test_view_clear_forgets_everything_but_keeps_the_filter():
    view = InspectorView(InspectorModel(clock=lambda: T0))
    view.ingest([received("a/1", "hot"), received("b/1", "hot")])
    view.set_filter(ViewFilter("a/#"))
    view.clear()
    assert view.model.total == 0
    assert list(view.log_rows) == []
    assert view.tree.topic_count == 0
    assert view.filter == ViewFilter("a/#")
    view.ingest([received("a/2", "x"), received("b/2", "y")])
    assert view.tree.topics_under("a") == ["a/2"]
    assert view.tree.topic_count == 1


def test_view_log_is_bounded():
    view = InspectorView(InspectorModel(clock=lambda: T0))
    assert view.ingest(received(f"t/{i}", str(i)) for i in range(LOG_ROWS + 10)) == LOG_ROWS + 10
    assert len(view.log_rows) == LOG_ROWS


def test_forgotten_topics_leave_both_trees():
    store = CaptureStore(max_topics=2, clock=lambda: T0)
    view = InspectorView(InspectorModel(store, clock=lambda: T0))
    view.set_filter(ViewFilter("#"))
    view.ingest([received("a"), received("b"), received("c")])
    assert view.model.tree.topic_count == 2
    assert view.tree.topic_count == 2


# -- the publish form -------------------------------------------------------------------


def test_user_properties():
    assert parse_user_properties(" a=1, b = two ,, c=") == (("a", "1"), ("b", "two"), ("c", ""))
    with pytest.raises(ValueError, match="not key=value"):
        parse_user_properties("a=1, oops")
    with pytest.raises(ValueError, match="not key=value"):
        parse_user_properties("=x")


def test_request_from_form():
    request = request_from_form(
        topic="a/b", payload="héllo", qos="2", retain=True, content_type=" text/plain ", expiry="9"
    )
    assert request == PublishRequest(
        "a/b", "héllo".encode(), 2, True, "text/plain", (), message_expiry=9
    )
    assert request.has_properties
    assert not request_from_form(topic="a", payload="", qos="0", retain=False).has_properties
    with pytest.raises(InvalidTopic):
        request_from_form(topic="a/#", payload="", qos="0", retain=False)
    with pytest.raises(ValueError, match="QoS"):
        request_from_form(topic="a", payload="", qos="", retain=False)
    with pytest.raises(ValueError, match="expiry"):
        request_from_form(topic="a", payload="", qos="0", retain=False, expiry="0")


# -- export -------------------------------------------------------------------------------


def test_export_jsonl(tmp_path):
    path = tmp_path / "deep" / "out.jsonl"
    count = export_jsonl(path, [msg("a", b"1"), msg("b", b"\xff", retain=True)])
    assert count == 2
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["topic"] for r in records] == ["a", "b"]
    assert records[1]["encoding"] == "base64" and records[1]["retain"] is True
