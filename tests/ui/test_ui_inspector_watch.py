"""Watch rules in the inspector: a crossing is a toast, a bell and a marked row, once
per crossing; a silence fires on the timer; rules added and removed with ``w`` are
saved in config.toml; ``t`` lists the top talkers and filters the view to one."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from mqchat.config.profiles import ConfigError, load_config, save_watch_rule
from mqchat.config.watch_rules import WatchRule, check_watch_rule
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.screens.inspector.talkers import TopTalkersScreen
from mqchat.screens.inspector.watch_rules import WatchRuleForm, WatchRulesScreen
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, inspector, notes, tick
from tests.support.screen import screen_text, settle

BOILER = check_watch_rule({"filter": "plant/+/boiler", "field": "temp", "above": 90})


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def rows_with(app: object, widget: type, needle: str) -> list[str]:
    view = inspector(app).query_one(widget)  # type: ignore[arg-type]
    width = view.scrollable_content_region.width
    return [
        view.row_text(i, width).plain
        for i in range(len(view.rows))
        if needle in view.row_text(i, width).plain
    ]


async def test_a_crossing_is_a_toast_a_bell_and_a_marked_row_once_until_back():
    feed = FakeFeed()
    app = build(feed, filters=("plant/#",), watch=WatchOptions(rules=(BOILER,)))
    bells: list[None] = []
    app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        feed.push("plant/a/boiler", '{"temp": 80}')
        feed.push("plant/b/boiler", '{"temp": 95}')
        await tick(pilot, app)
        assert notes(app) == ["plant/b/boiler: temp 95 > 90"]
        assert len(bells) == 1
        assert any("⚠" in row for row in rows_with(app, TopicTreeView, "boiler"))
        marked = [r for r in rows_with(app, MessageLogView, "boiler") if "⚠" in r]
        assert len(marked) == 1 and "plant/b/boiler" in marked[0]
        assert "1 alerting" in screen_text(app)

        feed.push("plant/b/boiler", '{"temp": 99}')  # still above: no second alert
        await tick(pilot, app)
        assert len(notes(app)) == 1 and len(bells) == 1

        feed.push("plant/b/boiler", '{"temp": 70}')  # back: re-armed, unmarked
        await tick(pilot, app)
        assert not any("⚠" in row for row in rows_with(app, TopicTreeView, "boiler"))
        assert "alerting" not in screen_text(app)

        feed.push("plant/b/boiler", '{"temp": 91}')
        await tick(pilot, app)
        assert notes(app)[-1] == "plant/b/boiler: temp 91 > 90"
        assert len(bells) == 2


async def test_bell_off_and_hostile_topics_shown_literally():
    feed = FakeFeed()
    rule = check_watch_rule({"filter": "#", "above": 1, "name": "[bold]x[/bold]"})
    app = build(feed, filters=("#",), watch=WatchOptions(rules=(rule,), bell=False))
    bells: list[None] = []
    app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        feed.push("evil/\x1b[31m[red]x", "5")
        await tick(pilot, app)
        assert notes(app) == ["evil/[31m[red]x: value 5 > 1"]  # no ESC, markup literal
        assert [n.title for n in app._notifications] == ["⚠ [bold]x[/bold]"]
        assert bells == []


async def test_a_flood_of_alerts_is_three_toasts_and_a_count():
    feed = FakeFeed()
    rule = check_watch_rule({"filter": "t/#", "changes": True})
    app = build(feed, filters=("t/#",), watch=WatchOptions(rules=(rule,)))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for i in range(10):
            feed.push("t/x", str(i))
        await tick(pilot, app)
        assert notes(app)[-1] == "and 6 more alerts (w lists them)"
        assert len(notes(app)) == 4


async def test_silence_fires_on_the_timer_and_a_message_ends_it():
    feed = FakeFeed()
    clock = Clock()
    rule = check_watch_rule({"filter": "sensors/#", "silent_s": 30})
    app = build(feed, filters=("sensors/#",), watch=WatchOptions(rules=(rule,)), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        feed.push("sensors/door", "open", ts=T0)
        await tick(pilot, app)
        clock.now = T0 + 29
        await tick(pilot, app)
        assert notes(app) == []
        clock.now = T0 + 31
        await tick(pilot, app)
        assert notes(app) == ["sensors/door: silent for 31 s"]
        assert any("⚠" in row for row in rows_with(app, TopicTreeView, "door"))
        feed.push("sensors/door", "closed", ts=T0 + 32)
        clock.now = T0 + 32
        await tick(pilot, app)
        assert not any("⚠" in row for row in rows_with(app, TopicTreeView, "door"))


async def test_rules_added_and_removed_with_w_are_saved_in_config_toml(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(
        '# mine\n[[inspector.watch]]\nfilter = "plant/+/boiler"  # hot\n'
        'field = "temp"\nabove = 90\n'
    )
    rules = load_config(path).inspector.watch

    def save(rule: WatchRule, remove: bool) -> str | None:
        try:
            save_watch_rule(path, rule, remove=remove)
        except ConfigError as exc:
            return str(exc)
        return None

    feed = FakeFeed()
    app = build(feed, filters=("home/#",), watch=WatchOptions(rules=rules, save=save))
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        feed.push("home/hall/temp", "21")
        await tick(pilot, app)
        inspector(app).query_one(TopicTreeView).select("home/hall/temp")
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WatchRulesScreen)
        assert "saved in config.toml" in screen_text(app)
        assert "plant/+/boiler temp" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, WatchRuleForm)
        assert app.screen.query_one("#w-filter", Input).value == "home/hall/temp"
        app.screen.query_one("#w-below", Input).value = "cold"
        await pilot.press("enter")
        await settle(pilot)
        assert "below: expected a number, got 'cold'" in screen_text(app)
        app.screen.query_one("#w-below", Input).value = "15"
        app.screen.query_one("#w-name", Input).value = "hall"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WatchRulesScreen)
        assert [r.label for r in load_config(path).inspector.watch] == [
            "plant/+/boiler temp",
            "hall",
        ]
        assert 'filter = "plant/+/boiler"  # hot' in path.read_text()  # the rest kept
        assert "hall" in screen_text(app)

        await pilot.press("escape")
        await settle(pilot)
        feed.push("home/hall/temp", "12")
        await tick(pilot, app)
        assert notes(app)[-1] == "home/hall/temp: value 12 < 15"  # the new rule works

        await pilot.press("w")
        await settle(pilot)
        app.screen.query_one(DataTable).move_cursor(row=0)
        await pilot.press("d")
        await settle(pilot)
        assert [r.label for r in load_config(path).inspector.watch] == ["hall"]
        assert notes(app)[-1] == "no longer watching plant/+/boiler temp"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)


async def test_top_talkers_by_depth_and_enter_filters_the_view():
    feed = FakeFeed()
    clock = Clock()
    app = build(feed, filters=("#",), clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        feed.push("home/kitchen/temp", "1")
        feed.push("plant/pump/speed", "1")
        await tick(pilot, app)
        await pilot.press("t")
        await settle(pilot)
        talkers = app.screen
        assert isinstance(talkers, TopTalkersScreen)
        assert "measuring…" in screen_text(app)
        for _ in range(30):
            feed.push("plant/pump/speed", "12345")
        for _ in range(10):
            feed.push("home/kitchen/temp", "1")
        assert app.inspector is not None
        app.inspector.tick()
        clock.now = T0 + 2
        talkers.measure()
        await settle(pilot)
        text = screen_text(app)
        assert text.index("plant") < text.index("home")
        assert "15.0" in text and "5.0" in text  # msg/s over 2 s
        assert "75 %" in text
        await pilot.press("3")
        await settle(pilot)
        assert "plant/pump/speed" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        assert app.screen.shown.filter.topic == "plant/pump/speed/#"


async def test_w_and_t_are_in_the_keys_help():
    app = build(FakeFeed())
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert "Watch rules: alerts on a bound, a change, a silence" in text
        assert "Top talkers: msg/s and bytes/s per subtree" in text
