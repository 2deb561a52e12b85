"""``mqchat inspect --open FILE``: a recording browsed offline with the time scrubber
(issue 17, acceptance 1: the scrubber reaches any minute). The recording is written
by the real writer with arrival times over five minutes; the keys move the cursor and
the tree, log and status show what had been captured by then."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from mqchat.inspect_app import InspectApp, make_playback_app
from mqchat.inspector.playback import load_playback
from mqchat.screens.inspector.playback import PlaybackScreen
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.inspector.scrubber import Scrubber
from mqchat.widgets.inspector.status import InspectorStatus
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0
from tests.support.recordings import HOSTILE_TOPIC, five_minutes, write_recording
from tests.support.screen import screen_text, settle

SIZE = (100, 30)


def _app(tmp_path: Path) -> InspectApp:
    path = write_recording(tmp_path / "plant.mqrec", five_minutes())
    app = make_playback_app(load_playback(path), data_dir=tmp_path, cursor_blink=False)
    app.theme = "textual-dark"
    return app


def _screen(app: InspectApp) -> PlaybackScreen:
    assert isinstance(app.screen, PlaybackScreen)
    return app.screen


def _shown_total(app: InspectApp) -> int:
    figures = app.screen.query_one(InspectorStatus).figures
    assert figures is not None
    return figures.total


def _expected(minutes: float) -> int:
    return sum(1 for m in five_minutes() if m.ts <= T0 + minutes * 60)


async def _press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
    await settle(pilot)


async def test_the_scrubber_reaches_every_minute_and_back(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _screen(app)
        assert _shown_total(app) == len(five_minutes())  # opened at the end: everything
        assert screen.shown.tree.count("plant/alarm") == 1
        await _press(pilot, "g")
        assert screen.playback.cursor == T0
        assert _shown_total(app) == _expected(0) == 1
        assert screen.shown.tree.count("plant/alarm") == 0
        for minute in range(1, 6):
            await _press(pilot, "right_curly_bracket")
            assert screen.playback.cursor == T0 + minute * 60
            assert _shown_total(app) == _expected(minute), minute
            assert screen.shown.tree.count("plant/alarm") == (1 if minute >= 4 else 0)
        # back a minute: the capture is made again from the start, not kept from 5:00
        await _press(pilot, "left_curly_bracket", "left_curly_bracket")
        assert _shown_total(app) == _expected(3)
        assert screen.shown.tree.count("plant/alarm") == 0
        assert screen.shown.tree.count("plant/line1/temp") == 19  # 0 s … 180 s
        await _press(pilot, "right_square_bracket")  # 3:10, the alarm (3:05) is in
        assert screen.shown.tree.count("plant/alarm") == 1
        await _press(pilot, "left_square_bracket")
        assert screen.shown.tree.count("plant/alarm") == 0
        await _press(pilot, "G")
        assert _shown_total(app) == len(five_minutes())
        line = screen.query_one(Scrubber).render()
        assert "+05:00 / 05:00" in str(line)
        assert f"{len(five_minutes()):,} of {len(five_minutes()):,} msgs" in str(line)


async def test_offline_keys_are_listed_and_broker_keys_are_off(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        footer = screen_text(app.screen.query_one(FittingFooter))
        for label in ("-10 s", "+10 s", "-1 min", "+1 min", "Start", "End", "Play"):
            assert label in footer, footer
        assert "Publish" not in footer and "Subscribe" not in footer
        await _press(pilot, "P", "s")
        assert isinstance(app.screen, PlaybackScreen)  # no form opened
        await _press(pilot, "f1")
        help_text = screen_text(app.screen)
        assert "+1 min" in help_text and "-10 s" in help_text


async def test_a_hostile_topic_in_a_recording_is_shown_literally(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = _screen(app)
        assert screen.shown.tree.count(HOSTILE_TOPIC) == 1
        screen.query_one(TopicTreeView).select(HOSTILE_TOPIC)
        await settle(pilot)
        text = screen_text(screen)
        assert "[bold red]evil[red]" in text
        assert "\x1b" not in text
        assert "[link=x]" in text


def test_snapshot_of_a_recording_at_two_minutes(snap_compare, tmp_path: Path) -> None:
    """Opened, sent to the start, two minutes on, line 1's temperature selected: the
    scrubber bright up to 2:00, the tree without the alarm (3:05), the log up to 2:00."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await _press(pilot, "g", "right_curly_bracket", "right_curly_bracket")
        _screen(pilot.app).query_one(TopicTreeView).select("plant/line1/temp")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


async def test_space_plays_from_the_cursor_at_the_chosen_speed(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _screen(app)
        await _press(pilot, "space")  # at the end: plays from the start
        assert screen.playing and screen.playback.cursor < T0 + 1
        screen._played_at -= 30  # as if 30 s had passed since the last tick
        screen.tick()
        assert T0 + 30 <= screen.playback.cursor < T0 + 32
        assert _shown_total(app) == _expected(screen.playback.cursor / 60 - T0 / 60)
        await _press(pilot, "plus", "plus")  # five times the pace
        screen._played_at -= 10
        screen.tick()
        assert T0 + 80 <= screen.playback.cursor < T0 + 85
        assert "▶ 5×" in str(screen.query_one(Scrubber).render())
        await _press(pilot, "space")
        assert not screen.playing
