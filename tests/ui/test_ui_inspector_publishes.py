"""Publishing from the inspector (issue 17): the form prefilled from the selected
topic, every publish sent kept and resent from ``p`` with one key, and publishes
saved by name (``f2`` in the form) in config.toml, there again after a restart.
Snapshot of the list: update with ``--snapshot-update`` and look at the SVG."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Checkbox, Input, OptionList, TextArea

from mqchat.app import LoginDefaults, make_app
from mqchat.config.profiles import load_config
from mqchat.config.publishes import save_publish
from mqchat.config.saved_publish import SavedPublish
from mqchat.config.settings import Settings
from mqchat.inspect_app import InspectApp
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.publishes import HISTORY_FILE
from mqchat.screens.inspector.publish import PublishScreen, SaveAsScreen
from mqchat.screens.inspector.publishes import PublishesScreen
from tests.support.fake_backend import NOW, fake_factory, seeded_backend
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, notes, select, tick
from tests.support.screen import screen_text, settle
from tests.ui.test_ui_inspector_snapshots import SIZE, steps

LAMP = "home/lamp/state"


def fill(feed: FakeFeed) -> None:
    feed.push(
        LAMP,
        json.dumps({"on": True, "level": 70}),
        qos=1,
        retain=True,
        properties={"ContentType": "application/json"},
        ts=T0 - 2,
    )
    feed.push("home/cam/frame", bytes(range(64)), ts=T0 - 1)


def app_for(tmp_path: Path, feed: FakeFeed | None = None) -> InspectApp:
    if feed is None:
        feed = FakeFeed()
        fill(feed)
    return build(feed, tmp_path / "data", filters=("home/#",), config_path=tmp_path / "c.toml")


def saved_config(tmp_path: Path) -> None:
    save_publish(tmp_path / "c.toml", "lamp off", SavedPublish(LAMP, '{"on": false}', 1, True))
    save_publish(tmp_path / "c.toml", "[b]bold[/b]", SavedPublish("home/\x1b[2Jx", "x"))


async def test_the_form_is_prefilled_from_the_selected_topic(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, LAMP)
        await pilot.press("P")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PublishScreen)
        assert form.query_one("#p-topic", Input).value == LAMP
        assert form.query_one("#p-payload", TextArea).text == '{"on": true, "level": 70}'
        assert form.query_one("#p-qos", Input).value == "1"
        assert form.query_one("#p-retain", Checkbox).value is True
        assert form.query_one("#p-ctype", Input).value == "application/json"
        await pilot.press("escape")
        await select(pilot, app, "home/cam/frame")  # binary: the payload is left empty
        await pilot.press("P")
        await settle(pilot)
        assert app.screen.query_one("#p-topic", Input).value == "home/cam/frame"
        assert app.screen.query_one("#p-payload", TextArea).text == ""


async def test_sent_publishes_are_kept_and_resent_with_one_key(tmp_path: Path) -> None:
    feed = FakeFeed()
    fill(feed)
    app = app_for(tmp_path, feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, LAMP)
        await pilot.press("P")
        await settle(pilot)
        app.screen.query_one("#p-payload", TextArea).text = '{"on": false}'
        await pilot.press("ctrl+s")
        await settle(pilot)
        sent = PublishRequest(LAMP, b'{"on": false}', 1, True, "application/json")
        assert feed.published == [sent]
        assert (tmp_path / "data" / HISTORY_FILE).exists()
    feed = FakeFeed()
    app = app_for(tmp_path, feed)  # a new run: the history is read back
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishesScreen)
        assert 'home/lamp/state  Q1 R  {"on": false}' in screen_text(app)
        await pilot.press("enter")  # the newest sent one, resent at once
        await settle(pilot)
        assert feed.published == [sent]
        assert any(n.startswith("Published 13 bytes to home/lamp/state") for n in notes(app))
        await pilot.press("p", "e")  # e: into the form first
        await settle(pilot)
        assert isinstance(app.screen, PublishScreen)
        assert app.screen.query_one("#p-payload", TextArea).text == '{"on": false}'


async def test_save_as_and_resend_a_saved_publish_after_a_restart(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, LAMP)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SaveAsScreen)
        await pilot.press(*"dim", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PublishScreen)
        assert "Saved as dim in config.toml: p resends it." in notes(app)
    saved = load_config(tmp_path / "c.toml").inspector.publishes
    assert saved["dim"] == SavedPublish(
        LAMP, '{"on": true, "level": 70}', 1, True, "application/json"
    )
    feed = FakeFeed()
    app = app_for(tmp_path, feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "★ dim" in screen_text(app)
        await pilot.press("enter")  # the first row: the saved one
        await settle(pilot)
        assert [r.payload for r in feed.published] == [b'{"on": true, "level": 70}']
        await pilot.press("p", "x")  # x forgets it: gone from the file as well
        await settle(pilot)
        assert "dim" not in load_config(tmp_path / "c.toml").inspector.publishes
        assert "★ dim" not in screen_text(app)


async def test_ctrl_o_fills_the_form_from_a_saved_publish(tmp_path: Path) -> None:
    saved_config(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P", "ctrl+o")
        await settle(pilot)
        listing = app.screen.query_one(OptionList)
        assert listing.highlighted == 1
        await pilot.press("down", "enter")  # sorted by name: "lamp off" second
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PublishScreen)
        assert form.query_one("#p-topic", Input).value == LAMP
        assert form.query_one("#p-payload", TextArea).text == '{"on": false}'


def test_saved_and_sent_publishes_list(snap_compare, tmp_path: Path):
    saved_config(tmp_path)
    (tmp_path / "data").mkdir()
    sent = [
        {"topic": "home/room1/light", "payload": "on", "qos": 0},
        {"topic": "home/room2/state", "payload": '{"level": 40}', "qos": 1, "retain": True},
    ]
    (tmp_path / "data" / HISTORY_FILE).write_text("".join(json.dumps(s) + "\n" for s in sent))
    assert snap_compare(app_for(tmp_path), terminal_size=SIZE, run_before=steps(None, "p"))


async def test_the_chats_inspector_offers_the_saved_publishes_too(tmp_path: Path) -> None:
    saved_config(tmp_path)
    feeds: list[FakeFeed] = []
    _, connect = fake_factory(seeded_backend())

    def inspector(settings: Settings) -> FakeFeed:
        feeds.append(FakeFeed())
        return feeds[-1]

    app = make_app(
        defaults=LoginDefaults(
            broker="mqtt://broker.test",
            user="alice",
            data_dir=tmp_path / "data",
            config_path=tmp_path / "c.toml",
        ),
        connect=connect,
        auto_login=True,
        clock=lambda: NOW,
        cursor_blink=False,
        inspector=inspector,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "★ lamp off" in screen_text(app)
        await pilot.press("down", "enter")  # sorted by name: "lamp off" second
        await settle(pilot)
        [feed] = feeds
        assert feed.published == [PublishRequest(LAMP, b'{"on": false}', 1, True)]
        assert (tmp_path / "data" / HISTORY_FILE).exists()
