"""The inspector screen with an in-memory backend: keys, the view filter, pause,
counts, the detail views, hostile payloads, and a flood taken in batches while a key
press still gets handled."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Checkbox, Input, OptionList, TextArea

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.inspect_app import InspectApp
from mqchat.inspector.backend import (
    PublishRequest,
    Received,
)
from mqchat.inspector.payload import View
from mqchat.inspector.view import LOG_ROWS
from mqchat.screens.inspector.screen import CHUNK, InspectorScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import FakeFeed, seed
from tests.support.inspector_app import build, inspector, notes, select, tick
from tests.support.screen import screen_text, settle


def hint(app: InspectApp) -> str:
    """The hint (or error) line of the dialog on top."""
    return str(app.screen.query_one(".dialog-hint").render())


# -- starting, counting, the status line ---------------------------------------------


async def test_subscribes_to_the_filters_and_starts():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert feed.started
        assert feed.subs == {"home/#": 0, "mqchat/#": 0}
        assert "subscribed: home/#  mqchat/#" in screen_text(app)
    assert feed.stopped


async def test_default_filter_is_everything():
    feed = FakeFeed()
    async with build(feed, filters=()).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert feed.subs == {"#": 0}


async def test_counts_and_tree(tmp_path):
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        text = screen_text(app)
        assert "9 msgs" in text
        assert "paused: no" in text
        assert "● connected" in text
        tree = inspector(app).query_one(TopicTreeView)
        paths = [row.path for row in tree.rows]
        # the first two levels open by themselves
        assert paths[:5] == [
            "home",
            "home/room1",
            "home/room1/humidity",
            "home/room1/temperature",
            "home/room2",
        ]
        assert next(r for r in tree.rows if r.path == "home").count == 7
        assert "23.41" in text  # the last value next to its topic


async def test_thousands_separators():
    feed = FakeFeed()
    for i in range(1234):
        feed.push(f"t/{i % 7}", b"x")
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        assert "1,234 msgs" in screen_text(app)


# -- detail views -------------------------------------------------------------------


async def test_detail_of_a_numeric_topic_has_history_and_sparkline():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "home/room1/temperature")
        text = screen_text(app)
        assert "retained · QoS 1 · 5 bytes · 14:04:50.000" in text
        assert "min 22.9  max 23.41  last 23.41  (5)" in text
        assert any(ch in text for ch in "▁▂▃▄▅▆▇█")


async def test_v_cycles_the_payload_view():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "home/room2/state")
        detail = inspector(app).query_one(DetailView)
        assert detail.view is View.JSON
        assert '"level": 70' in screen_text(app)  # pretty printed
        assert "ContentType: application/json" in screen_text(app)
        assert "UserProperty: src=hall" in screen_text(app)
        seen = []
        for _ in range(4):
            await pilot.press("v")
            await settle(pilot)
            seen.append(detail.view)
        assert seen == [View.TEXT, View.HEX, View.BASE64, View.JSON]
        await pilot.press("v", "v")
        await settle(pilot)
        assert "0000" in screen_text(app)  # hex dump offsets


async def test_binary_payload_opens_as_hex():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "sensors/raw")
        assert inspector(app).query_one(DetailView).view is View.HEX
        assert "00000000: 0001 0203" in screen_text(app)


HOSTILE = [
    ("evil/ansi", b"clear\x1b[2J\x1b[H bell\x07 osc\x1b]0;pwned\x07 csi\x9b31m end"),
    ("evil/markup", b"[bold red]not red[/] [link=http://x]no link[/link] :smile:"),
    ("evil/bidi", "file \u202egnp.exe\u202c ok".encode()),
    ("evil/huge", b"A" * 200_000),
    ("evil/deep", b"[" * 5000 + b"]" * 5000),
    ("evil/\x1b[31mtopic", b"topic with an escape"),
    ("evil/utf8", b"\xff\xfe\xfd not utf-8"),
]


async def test_hostile_payloads_are_shown_safely():
    feed = FakeFeed()
    for topic, payload in HOSTILE:
        feed.push(topic, payload, properties={"ContentType": "\x1b[31mred\u202e"})
    app = build(feed, filters=("#",))
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        for topic, _ in HOSTILE:
            await select(pilot, app, topic)
            await pilot.press("v")
            await settle(pilot)
            text = screen_text(app)
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        await select(pilot, app, "evil/huge")
        body = str(inspector(app).query_one("#detail-body").render())
        assert "more bytes" in body


# -- the log, pause, flood ------------------------------------------------------------


async def test_log_is_bounded():
    feed = FakeFeed()
    for i in range(LOG_ROWS * 3):
        feed.push(f"n/{i % 10}", str(i))
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        log = inspector(app).query_one(MessageLogView)
        assert len(log.rows) == LOG_ROWS
        assert log.rows[-1].payload == str(LOG_ROWS * 3 - 1).encode()
        assert str(LOG_ROWS * 3 - 1) in screen_text(app)  # following the newest


async def test_pause_freezes_the_view_but_keeps_counting():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        await pilot.press("space")
        await settle(pilot)
        assert inspector(app).paused
        assert "paused: yes" in screen_text(app)
        feed.push("home/room3/new", "fresh")
        await tick(pilot, app)
        text = screen_text(app)
        assert "10 msgs" in text  # counted…
        assert "room3" not in text  # …but the view is frozen
        assert inspector(app).model.store.stats("home/room3/new") is not None  # captured
        await pilot.press("space")
        await settle(pilot)
        assert "room3" in screen_text(app)
        assert "paused: no" in screen_text(app)


async def test_a_flood_is_taken_in_batches_and_keys_still_work(monkeypatch):
    feed = FakeFeed()
    taken: list[int] = []
    take = feed.take

    def recording_take(limit: int) -> list[Received]:
        batch = take(limit)
        taken.append(len(batch))
        return batch

    monkeypatch.setattr(feed, "take", recording_take)
    app = build(feed, filters=("flood/#",))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = inspector(app)
        waiting_at_pause: list[int] = []
        pause = screen.action_pause

        def recording_pause() -> None:
            waiting_at_pause.append(len(feed.buffer))
            pause()

        monkeypatch.setattr(screen, "action_pause", recording_pause)
        widgets_before = len(list(screen.query("*")))
        total = 50_000
        for i in range(total):
            feed.push(f"flood/{i % 500}", b'{"n":%d}' % i)
        await pilot.press("space")
        assert screen.paused
        assert waiting_at_pause[0] > 0  # handled while the flood was still waiting
        for _ in range(100):
            if not feed.buffer:
                break
            await pilot.pause(0.05)
        assert not feed.buffer
        assert max(taken) <= CHUNK
        assert screen.model.total == total
        assert f"{total:,} msgs" in screen_text(app)
        await pilot.press("space")
        await settle(pilot)
        assert len(screen.query_one(MessageLogView).rows) == LOG_ROWS
        assert len(list(screen.query("*"))) == widgets_before  # no widget per message


# -- filter ---------------------------------------------------------------------------


async def test_filter_by_topic_and_text():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"home/+/temperature")
        await pilot.press("tab", *"23.4", "enter")
        await settle(pilot)
        screen = inspector(app)
        assert [m.payload for m in screen.shown.log_rows] == [b"23.41"]
        assert [r.path for r in screen.query_one(TopicTreeView).rows] == [
            "home",
            "home/room1",
            "home/room1/temperature",
        ]
        assert 'Messages · filter: home/+/temperature "23.4"' in screen_text(app)
        feed.push("home/room9/temperature", "23.45")
        feed.push("home/room9/humidity", "23.45")
        await tick(pilot, app)
        assert [m.payload for m in screen.shown.log_rows] == [b"23.41", b"23.45"]
        # clearing both fields shows everything again
        await pilot.press("slash")
        await settle(pilot)
        for input_ in app.screen.query(Input):
            input_.value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert len(screen.shown.log_rows) == 11


async def test_an_invalid_filter_is_refused_on_the_spot():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"home/#/x", "enter")
        await settle(pilot)
        assert "'#' must be a whole level and the last one" in hint(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        assert not inspector(app).shown.filter


# -- subscribe, unsubscribe -------------------------------------------------------------


async def test_subscribe_and_unsubscribe():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s", *"$SYS/#", "tab", "backspace", "1", "enter")
        await settle(pilot)
        assert feed.subs["$SYS/#"] == 1
        assert "$SYS/# (QoS 1)" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen.query_one(OptionList), OptionList)
        await pilot.press("down", "enter")  # the second one: mqchat/#
        await settle(pilot)
        assert set(feed.subs) == {"home/#", "$SYS/#"}


async def test_subscribe_refuses_a_bad_filter():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s", *"a/b#", "enter")
        await settle(pilot)
        assert "must be a whole level" in hint(app)
        assert "a/b#" not in feed.subs


async def test_notices_from_the_backend_are_shown():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        feed.notices.append("broker.test:1883 refused 'secret/#': Not authorized")
        await tick(pilot, app)
        assert "refused 'secret/#'" in " ".join(notes(app))


async def test_a_failed_connection_is_shown():
    feed = FakeFeed(
        state=ConnectionChanged(
            ConnectionState.FAILED, "broker.test:1883 refused the login: bad user name or password"
        )
    )
    app = build(feed)
    async with app.run_test(size=(120, 30)) as pilot:
        await tick(pilot, app)
        text = screen_text(app)
        assert "connection failed" in text
        assert "bad user name or password" in text


# -- publish, clear retained, export ------------------------------------------------------


async def test_publish_form():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "home/room2/state")
        await pilot.press("P")
        await settle(pilot)
        dialog = app.screen
        assert dialog.query_one("#p-topic", Input).value == "home/room2/state"
        # Prefilled from the topic's last message (test_ui_inspector_publishes.py);
        # here the payload is typed afresh.
        payload = dialog.query_one("#p-payload", TextArea)
        assert payload.text == '{"on": true, "level": 70, "name": "lamp"}'
        payload.text = ""
        dialog.query_one("#p-qos", Input).value = "1"
        dialog.query_one("#p-retain", Checkbox).value = True
        dialog.query_one("#p-ctype", Input).value = "application/json"
        dialog.query_one("#p-user", Input).value = "by=test, n=1"
        dialog.query_one("#p-expiry", Input).value = "60"
        # The payload takes several lines: enter there starts a new one, ctrl+s sends.
        await pilot.press("tab", *'{"on":', "enter", *" false}", "enter")
        await settle(pilot)
        assert feed.published == []
        await pilot.press("backspace", "ctrl+s")
        await settle(pilot)
        assert feed.published == [
            PublishRequest(
                topic="home/room2/state",
                payload=b'{"on":\n false}',
                qos=1,
                retain=True,
                content_type="application/json",
                user_properties=(("by", "test"), ("n", "1")),
                message_expiry=60,
            )
        ]
        assert "Published 14 bytes to home/room2/state (QoS 1, retained)." in " ".join(notes(app))


async def test_publish_refuses_a_wildcard_topic_and_reports_errors():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P", *"a/+", "enter")
        await settle(pilot)
        assert "wildcards belong in filters only" in hint(app)
        await pilot.press(*["backspace"] * 3, *"a/b")
        feed.publish_error = "not connected to broker.test:1883"
        await pilot.press("enter")
        await settle(pilot)
        assert "not connected to broker.test:1883" in " ".join(notes(app))
        assert feed.published == []


async def test_clear_retained_lists_first_then_clears_on_y():
    feed = FakeFeed()
    seed(feed)
    feed.retained["home/#"] = ["home/room1/temperature", "home/room2/state"]
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "home")
        await pilot.press("R")
        await settle(pilot)
        assert app.screen.query_one("#c-filter", Input).value == "home/#"
        await pilot.press("y")  # nothing listed yet: y does nothing but type
        await settle(pilot)
        app.screen.query_one("#c-filter", Input).value = "home/#"
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "2 retained under home/#" in text
        assert "home/room2/state" in text
        assert feed.cleared == []  # a dry run changes nothing
        await pilot.press("y")
        await settle(pilot)
        assert feed.cleared == [["home/room1/temperature", "home/room2/state"]]
        assert isinstance(app.screen, InspectorScreen)
        assert "Cleared 2 retained messages under home/#." in " ".join(notes(app))


async def test_clear_retained_clears_what_comes_back_and_reports_what_stays():
    feed = FakeFeed()
    seed(feed)
    feed.retained["home/#"] = ["home/room1/temperature", "home/room2/state"]
    feed.republished = {"home/room2/state"}  # a device that publishes it again at once
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await pilot.press("R", *"home/#", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        # Three passes, like mqchat clear-retained: all, then what came back, twice.
        assert feed.cleared == [
            ["home/room1/temperature", "home/room2/state"],
            ["home/room2/state"],
            ["home/room2/state"],
        ]
        said = " ".join(notes(app))
        assert "Cleared 4 retained messages under home/#." in said
        assert "1 topic under home/# retained again after 3 passes" in said
        assert "home/room2/state" in said


async def test_clear_retained_with_nothing_found():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("R", *"nothing/#", "enter")
        await settle(pilot)
        assert "No retained messages under nothing/#." in screen_text(app)
        await pilot.press("y", "escape")
        await settle(pilot)
        assert feed.cleared == []


async def test_export_writes_json_lines(tmp_path):
    feed = FakeFeed()
    seed(feed)
    app = build(feed, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        await pilot.press("e")
        await settle(pilot)
        path_input = app.screen.query_one("#e-path", Input)
        assert path_input.value == str(tmp_path / "exports" / "inspect-20261122-140500.jsonl")
        await pilot.press("enter")
        await pilot.pause(0.2)
        await settle(pilot)
        lines = (tmp_path / "exports" / "inspect-20261122-140500.jsonl").read_text().splitlines()
        assert len(lines) == 9
        records = [json.loads(line) for line in lines]
        assert records[0]["topic"] == "home/room1/temperature"
        assert records[-1]["encoding"] == "base64"
        assert "Exported 9 messages" in " ".join(notes(app))


async def test_export_reports_an_unwritable_path(tmp_path):
    feed = FakeFeed()
    seed(feed)
    blocker = tmp_path / "file"
    blocker.write_text("")
    app = build(feed, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#e-path", Input).value = str(blocker / "x.jsonl")
        await pilot.press("enter")
        await pilot.pause(0.2)
        await settle(pilot)
        [note] = app._notifications
        assert note.title == "Not exported" and note.severity == "error"
        assert str(blocker) in note.message


# -- navigation ---------------------------------------------------------------------------


async def test_tree_keys_and_log_pick():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        tree = screen.query_one(TopicTreeView)
        await pilot.press("down")  # the first row
        assert tree.selected == "home"
        await pilot.press("left")  # closes it
        await settle(pilot)
        assert [r.path for r in tree.rows][:2] == ["home", "mqchat"]
        await pilot.press("right", "down", "down", "down")
        await settle(pilot)
        assert screen.selected == "home/room1/temperature"
        await pilot.press("left")  # a topic without children: up to its parent
        assert screen.selected == "home/room1"
        # the log: focus it, go up one row, that message shows in the detail
        screen.query_one(MessageLogView).focus()
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert screen.picked is not None and screen.picked.topic == "mqchat/u/alice/presence"
        assert screen.query_one(DetailView).border_title == "mqchat/u/alice/presence"


async def test_a_huge_tree_computes_only_what_is_seen():
    feed = FakeFeed()
    for i in range(10_000):
        feed.push(f"fleet/dev{i:05d}", str(i))
    app = build(feed, filters=("#",))
    async with app.run_test(size=(100, 30)) as pilot:
        await tick(pilot, app)
        tree = inspector(app).query_one(TopicTreeView)
        assert tree.more and len(tree.rows) < 200
        await pilot.press("down", "pagedown", "pagedown", "pagedown")
        await settle(pilot)
        assert tree.selected is not None and tree.selected.startswith("fleet/dev000")
        await pilot.press("end")
        await settle(pilot)
        assert tree.selected == "fleet/dev09999"
        assert len(tree.rows) == 10_001
        assert "9999" in screen_text(app)


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_escape_quit_the_standalone_inspector(key):
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
    assert feed.stopped
    assert app.return_code == 0


async def test_footer_lists_every_key():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for words in (
            "Filter",
            "Subscribe",
            "Unsubscribe",
            "Pause",
            "Publish",
            "Clear retained",
            "Export",
            "View",
            "Quit",
        ):
            assert words in footer
