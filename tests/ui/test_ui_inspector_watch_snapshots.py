"""SVG snapshots of the inspector's watch rules and top talkers at 100x30, from fixed
messages and a fixed clock (TZ=UTC). Update with ``pytest
tests/ui/test_ui_inspector_watch_snapshots.py --snapshot-update`` and look at the SVGs
in ``snapshots/test_ui_inspector_watch_snapshots/`` before committing them."""

from __future__ import annotations

from textual.pilot import Pilot

from mqchat.config.watch_rules import check_watch_rule
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.screens.inspector.talkers import TopTalkersScreen
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0, FakeFeed, seed
from tests.support.inspector_app import build

SIZE = (100, 30)
RULES = (
    check_watch_rule({"filter": "home/+/temperature", "above": 23.2, "name": "warm rooms"}),
    check_watch_rule(
        {"filter": "home/room2/state", "field": "level", "below": 80, "changes": True}
    ),
    check_watch_rule({"filter": "plant/pump", "silent_s": 30}),
)


async def _ready(pilot: Pilot[None], *presses: str, select: str | None = None) -> None:
    for _ in range(5):
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, InspectorScreen)
    screen.tick()
    if select is not None:
        screen.query_one(TopicTreeView).select(select)
    for key in presses:
        await pilot.press(key)
        await pilot.pause()
    for _ in range(5):
        await pilot.pause()


def test_inspector_alert_marks_rows(snap_compare):
    feed = FakeFeed()
    seed(feed)
    app = build(feed, watch=WatchOptions(rules=RULES))

    async def run(pilot: Pilot[None]) -> None:
        await _ready(pilot, select="home/room1/humidity")

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_watch_rules_list(snap_compare):
    feed = FakeFeed()
    seed(feed)
    app = build(feed, watch=WatchOptions(rules=RULES, save=lambda _rule, _remove: None))

    async def run(pilot: Pilot[None]) -> None:
        await _ready(pilot, "w")
        app.clear_notifications()

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_watch_rule_form(snap_compare):
    feed = FakeFeed()
    seed(feed)
    app = build(feed, watch=WatchOptions(rules=RULES))

    async def run(pilot: Pilot[None]) -> None:
        await _ready(pilot, select="home/room1/temperature")
        app.clear_notifications()
        await _ready(pilot, "w", "a", "tab", "tab", *"23.5")

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_top_talkers(snap_compare):
    feed = FakeFeed()
    now = [T0]
    app = build(feed, filters=("#",), clock=lambda: now[0])
    topics = {
        "plant/line1/pump/speed": (40, b"1450.5"),
        "plant/line1/pump/temp": (20, b'{"temp": 61.2, "unit": "C"}'),
        "plant/line2/press/force": (25, bytes(200)),
        "home/room1/temperature": (5, b"23.41"),
        "home/room2/state": (2, b'{"on": true}'),
        "$SYS/broker/uptime": (1, b"3605 seconds"),
    }

    async def run(pilot: Pilot[None]) -> None:
        for topic, (_, payload) in topics.items():
            feed.push(topic, payload)
        await _ready(pilot, "t")
        for topic, (count, payload) in topics.items():
            for _ in range(count * 2):
                feed.push(topic, payload)
        assert app.inspector is not None
        app.inspector.tick()
        now[0] = T0 + 2
        talkers = app.screen
        assert isinstance(talkers, TopTalkersScreen)
        talkers.measure()
        await _ready_talkers(pilot, "2")

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


async def _ready_talkers(pilot: Pilot[None], *presses: str) -> None:
    for key in presses:
        await pilot.press(key)
    for _ in range(5):
        await pilot.pause()
