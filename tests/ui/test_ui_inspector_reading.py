"""Reading payloads in the inspector (issue 17): ``d`` shows what changed from the
topic's previous message, ``j`` opens the payload as a collapsible JSON tree (big
arrays a chunk at a time, hostile keys literal), ``c``/``C`` copy the payload or the
topic through the terminal's OSC 52. Snapshots of the diff and the tree: update with
``--snapshot-update`` and look at the SVGs."""

from __future__ import annotations

import base64
import json

from textual.widgets.tree import TreeNode

from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.clipboard import MAX_COPY
from mqchat.inspector.payload import View
from mqchat.screens.inspector.json_tree import JsonTreeScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.json_tree import CHUNK, Branch, JsonTree
from tests.support.codecs import msgpack_bytes
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, inspector, notes, select, tick
from tests.support.screen import screen_text, settle
from tests.ui.test_ui_inspector_snapshots import SIZE, steps

STATE = "plant/line1/state"
HOSTILE = {"[bold red]boom[/]": "\x1b[2Jcleared", "levels": list(range(1000))}


def fill(feed: FakeFeed) -> None:
    feed.push(STATE, json.dumps({"rpm": 1450, "mode": "auto", "alarms": []}), ts=T0 - 20)
    feed.push(STATE, json.dumps({"rpm": 1475, "alarms": ["overheat"], "door": "open"}), ts=T0 - 10)
    feed.push("plant/line1/first", "only one", ts=T0 - 5)
    feed.push("plant/line1/doc", json.dumps(HOSTILE), ts=T0 - 2)
    feed.push("plant/line1/raw", bytes(range(32)), ts=T0 - 1)
    feed.push("plant/line1/packed", msgpack_bytes(), ts=T0)


def app_for():  # type: ignore[no-untyped-def]
    feed = FakeFeed()
    fill(feed)
    return build(feed, filters=("plant/#",))


def test_diff_against_the_previous_message(snap_compare):
    assert snap_compare(app_for(), terminal_size=SIZE, run_before=steps(STATE, "d"))


def test_json_tree_opened_and_a_level_expanded(snap_compare):
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await steps("plant/line1/doc", "j")(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(app_for(), terminal_size=SIZE, run_before=run)


async def test_d_shows_the_diff_and_goes_back() -> None:
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        detail = inspector(app).query_one(DetailView)
        await select(pilot, app, STATE)
        assert detail.view is View.JSON
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        assert detail.view is View.DIFF
        assert "1 changed, 2 added, 1 removed" in text
        assert "~ rpm: 1450 → 1475" in text
        assert '- mode: "auto"' in text
        assert '+ alarms[0]: "overheat"' in text
        assert '+ door: "open"' in text
        await select(pilot, app, "plant/line1/first")  # the diff view stays: nothing before
        assert "no previous message of this topic is kept" in screen_text(app)
        await pilot.press("d")  # back to the view before
        await settle(pilot)
        assert detail.view is View.TEXT and "only one" in screen_text(app)


async def test_the_tree_opens_big_arrays_a_chunk_at_a_time_and_keeps_keys_literal() -> None:
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "plant/line1/doc")
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, JsonTreeScreen)
        tree = app.screen.query_one(JsonTree)
        root = tree.root
        assert [n.label.plain for n in root.children] == [
            '[bold red]boom[/]: "\\u001b[2Jcleared"',
            "levels [1,000]",
        ]
        assert "[bold red]boom[/]" in screen_text(app) and "\x1b" not in screen_text(app)
        levels: TreeNode[Branch] = root.children[1]
        assert not levels.children  # made only when opened
        tree.move_cursor(levels)
        await pilot.press("enter")
        await settle(pilot)
        assert levels.is_expanded
        assert len(levels.children) == CHUNK + 1
        assert levels.children[-1].label.plain == f"… {1000 - CHUNK:,} more (enter adds {CHUNK})"
        tree.move_cursor(levels.children[-1])
        await pilot.press("enter")
        await settle(pilot)
        assert len(levels.children) == 2 * CHUNK + 1
        assert levels.children[CHUNK].label.plain == f"{CHUNK}: {CHUNK}"
        tree.move_cursor(levels)
        await pilot.press("enter")  # closes it again
        await settle(pilot)
        assert not levels.is_expanded
        await pilot.press("c")  # copies the highlighted value as JSON
        await settle(pilot)
        assert app.clipboard == json.dumps(list(range(1000)), indent=2)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, JsonTreeScreen)
        await select(pilot, app, "plant/line1/first")
        await pilot.press("j")
        await settle(pilot)
        assert not isinstance(app.screen, JsonTreeScreen)
        assert any("No tree: the payload is text" in n for n in notes(app))
        await select(pilot, app, "plant/line1/packed")  # binary: its decoded value
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, JsonTreeScreen)
        assert app.screen.document.source == "msgpack"
        assert "rpm: 1450" in screen_text(app)


async def test_copy_sends_osc_52_and_says_what_went() -> None:
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign]
        await tick(pilot, app)
        await select(pilot, app, STATE)
        await pilot.press("c")
        await settle(pilot)
        payload = json.dumps({"rpm": 1475, "alarms": ["overheat"], "door": "open"})
        assert app.clipboard == payload
        assert f"\x1b]52;c;{base64.b64encode(payload.encode()).decode()}\a" in written
        assert f"Copied the payload, {len(payload)} B text." in notes(app)
        await pilot.press("C")
        await settle(pilot)
        assert app.clipboard == STATE
        assert f"Copied the topic, {len(STATE)} B." in notes(app)
        await select(pilot, app, "plant/line1/raw")
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == base64.b64encode(bytes(range(32))).decode()
        assert "Copied the payload, 32 B bytes as base64." in notes(app)


async def test_a_payload_too_big_for_osc_52_is_refused_politely() -> None:
    feed = FakeFeed()
    feed.push("big/one", "x" * (MAX_COPY + 1), ts=T0)
    store = CaptureStore(payload_cap=2 * MAX_COPY)  # the default cap is below MAX_COPY
    app = build(feed, filters=("big/#",), store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, "big/one")
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == ""
        assert any(n.startswith("Not copied: 100.0 kB is more than") for n in notes(app))


async def test_the_help_lists_the_reading_keys_after_v() -> None:
    app = app_for()
    async with app.run_test(size=(120, 50)) as pilot:
        await tick(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot)
        rows = [line.strip("│ ") for line in screen_text(app).splitlines()]
        keys = [row.split()[0] for row in rows if row.split() and len(row.split()[0]) <= 2]
        at = keys.index("v")
        assert keys[at + 1 : at + 5] == ["d", "j", "c", "C"]
