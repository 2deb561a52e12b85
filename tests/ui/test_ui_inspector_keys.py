"""The inspector's keys beyond the basics: the help list, the broker stats view
($SYS), the sparkline's JSON field, and clearing the capture."""

from __future__ import annotations

import json

from mqchat.screens.inspector.broker_stats import QUIET_AFTER, BrokerStatsScreen
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.screens.keys_help import KeysHelpScreen
from tests.support.fake_feed import T0, FakeFeed, seed
from tests.support.inspector_app import build, inspector, notes, select, tick
from tests.support.screen import screen_text, settle


async def test_question_mark_lists_every_key_the_footer_has_no_room_for():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelpScreen)
        text = screen_text(app)
        for words in (
            "Filter",
            "Subscribe",
            "Unsubscribe",
            "Pause",
            "Publish",
            "Clear retained",
            "Export",
            "View",
            "Broker stats ($SYS)",
            "Sparkline: follow the next numeric JSON field",
            "Forget everything captured (counts start again at 0)",
            "This list of keys",
            "Quit",  # the standalone inspector's own word for leaving
        ):
            assert words in text, words
        for _keys, what in InspectorScreen.EXTRA_KEYS:
            assert what in text
        assert "esc/q" in text  # one action's keys together
        assert "^l" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)


async def test_footer_shows_broker_stats_and_help():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "b Broker" in footer
        assert "? Keys" in footer


def _sys(feed: FakeFeed, topic: str, value: str, ts: float = T0) -> None:
    feed.push(f"$SYS/broker/{topic}", value, retain=topic == "version", ts=ts)


async def test_b_subscribes_to_sys_and_shows_the_broker_figures():
    feed = FakeFeed()
    now = [T0]
    app = build(feed)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = inspector(app)
        screen.clock = lambda: now[0]
        await pilot.press("b")
        await settle(pilot)
        assert feed.subs["$SYS/#"] == 0
        assert isinstance(app.screen, BrokerStatsScreen)
        assert "waiting for the broker's statistics" in screen_text(app)
        _sys(feed, "version", "mosquitto version 2.0.11")
        _sys(feed, "uptime", "42 seconds")
        _sys(feed, "clients/connected", "3")
        _sys(feed, "load/messages/received/1min", "120.5")
        _sys(feed, "some/vendor/figure", "\x1b[31mred[/]")
        screen.tick()  # its timer keeps running under the stats view
        app.screen.refresh_figures()
        await settle(pilot)
        text = screen_text(app)
        assert "version  mosquitto version 2.0.11" in text
        assert "uptime  42 seconds" in text
        assert "clients connected  3" in text
        assert "msgs in /min (1 min avg)  120.5" in text
        assert "$SYS/broker/some/vendor/figure" in text  # every topic in the table
        assert "red[/]" in text and "\x1b" not in text
        assert "5 $SYS topics below" in text
        _sys(feed, "clients/connected", "4")
        screen.tick()
        app.screen.refresh_figures()
        await settle(pilot)
        assert "clients connected  4" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        await pilot.press("b")  # once subscribed, b does not subscribe again
        await settle(pilot)
        assert list(feed.subs).count("$SYS/#") == 1


async def test_a_broker_without_sys_is_said_to_have_none():
    feed = FakeFeed()
    now = [T0]
    app = build(feed)
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot)
        inspector(app).clock = lambda: now[0]
        await pilot.press("b")
        await settle(pilot)
        stats = app.screen
        assert isinstance(stats, BrokerStatsScreen)
        now[0] = T0 + QUIET_AFTER + 1
        stats.refresh_figures()
        await settle(pilot)
        text = screen_text(app)
        assert "No $SYS topics arrived in 16 s: this broker publishes none" in text


async def test_n_switches_the_sparkline_to_the_next_numeric_json_field():
    feed = FakeFeed()
    for i in range(6):
        reading = {"id": "s1", "temp": 20 + i, "env": {"hum": 60 - i}, "ok": True}
        feed.push("home/sensor", json.dumps(reading), ts=T0 - 10 + i)
    feed.push("home/words", json.dumps({"name": "lamp"}))
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "home/sensor")
        text = screen_text(app)
        assert "temp " in text and "min 20  max 25  last 25  (6)" in text
        await pilot.press("n")
        await settle(pilot)
        text = screen_text(app)
        assert "env.hum " in text and "min 55  max 60  last 55  (6)" in text
        await pilot.press("n")  # round again
        await settle(pilot)
        assert "min 20  max 25  last 25  (6)" in screen_text(app)
        await select(pilot, app, "home/words")
        await pilot.press("n")
        await settle(pilot)
        assert "has no numeric JSON field" in " ".join(notes(app))


async def test_ctrl_l_clears_the_capture_and_counts_from_zero():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        assert "9 msgs" in screen_text(app)
        await pilot.press("ctrl+l")
        await settle(pilot)
        screen = inspector(app)
        assert screen.model.total == 0
        assert screen.model.tree.topic_count == 0
        text = screen_text(app)
        assert "0 msgs" in text and "Cleared: counting again from 0." in text
        assert "temperature" not in text
        feed.push("home/new", "1")
        await tick(pilot, app)
        assert "1 msgs" in screen_text(app)
        await select(pilot, app, "home/new")
        assert "home/new" in screen_text(app)
