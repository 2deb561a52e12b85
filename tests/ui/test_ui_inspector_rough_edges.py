"""The inspector as a new user finds it: a click selects a tree or log row, the panes
grow with the terminal, leaving the broker stats view leaves ``$SYS/#`` too, the
detail lets go of a topic the filter or ``ctrl+l`` removed, and a single thing is
counted in the singular."""

from __future__ import annotations

from mqchat.inspector.view import ViewFilter
from mqchat.screens.inspector.broker_stats import BrokerStatsScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0, FakeFeed, seed
from tests.support.inspector_app import build, inspector, tick
from tests.support.screen import screen_text, settle

# -- the mouse ---------------------------------------------------------------------


async def test_a_click_on_a_tree_row_selects_it_and_shows_its_detail():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        tree = screen.query_one(TopicTreeView)
        paths = [row.path for row in tree.rows]
        at = paths.index("home/room2/state")
        # Row 0 is under the border: the rows start one line down.
        await pilot.click(TopicTreeView, offset=(4, 1 + at))
        await settle(pilot)
        assert tree.selected == "home/room2/state"
        assert screen.selected == "home/room2/state"
        assert screen.query_one(DetailView).border_title == "home/room2/state"
        assert '"level": 70' in screen_text(app)


async def test_a_click_on_the_selected_tree_row_closes_and_opens_it():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        tree = inspector(app).query_one(TopicTreeView)
        await pilot.click(TopicTreeView, offset=(4, 1))  # home
        await settle(pilot)
        assert tree.selected == "home"
        rows = len(tree.rows)
        await pilot.click(TopicTreeView, offset=(4, 1))
        await settle(pilot)
        assert len(tree.rows) < rows  # closed
        await pilot.click(TopicTreeView, offset=(4, 1))
        await settle(pilot)
        assert len(tree.rows) == rows  # open again


async def test_a_click_below_the_last_row_does_nothing():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        tree = screen.query_one(TopicTreeView)
        await pilot.click(TopicTreeView, offset=(4, 1 + len(tree.rows) + 2))
        await pilot.click(MessageLogView, offset=(4, 1 + 9 + 1))  # 9 rows in the log
        await settle(pilot)
        assert tree.selected is None and tree.cursor is None
        assert screen.selected is None and screen.picked is None
        assert "Select a topic" in screen_text(app)


async def test_a_click_on_a_log_row_shows_that_message():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        log = screen.query_one(MessageLogView)
        assert len(log.rows) == 9 and log.scroll_offset.y == 0  # all of them in view
        await pilot.click(MessageLogView, offset=(4, 1 + 2))  # the third: 23.38
        await settle(pilot)
        assert log.cursor == 2
        assert screen.picked is log.rows[2]
        assert screen.picked.payload == b"23.38"
        assert screen.query_one(DetailView).border_title == "home/room1/temperature"
        await pilot.click(MessageLogView, offset=(4, 1 + 8))  # the last one, sensors/raw
        await settle(pilot)
        assert screen.picked is log.rows[8]
        assert screen.query_one(DetailView).border_title == "sensors/raw"


# -- the layout --------------------------------------------------------------------


async def test_the_panes_grow_with_the_terminal():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        screen = inspector(app)
        log = screen.query_one(MessageLogView).scrollable_content_region.height
        tree = screen.query_one(TopicTreeView).scrollable_content_region.height
        assert log >= 17  # 8 at this size before
        assert tree >= 30
        assert log + tree + 4 + 2 == 60  # two borders each, the status line, the footer
    app = build(feed)
    async with app.run_test(size=(100, 30)) as pilot:  # still usable small
        await settle(pilot)
        screen = inspector(app)
        assert screen.query_one(MessageLogView).scrollable_content_region.height == 8
        assert screen.query_one(TopicTreeView).scrollable_content_region.height == 16


# -- the detail follows what is in view --------------------------------------------


async def test_a_topic_the_filter_hides_leaves_the_detail():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        screen.query_one(TopicTreeView).select("home/room2/state")
        await settle(pilot)
        assert '"level": 70' in screen_text(app)
        screen.set_view_filter(ViewFilter("home/room1/#"))
        await settle(pilot)
        detail = screen.query_one(DetailView)
        assert screen.selected is None
        assert detail.border_title == "Message"
        assert '"level": 70' not in screen_text(app)
        assert "Select a topic" in screen_text(app)
        # A topic the filter lets through stays selected.
        screen.query_one(TopicTreeView).select("home/room1/temperature")
        await settle(pilot)
        screen.set_view_filter(ViewFilter("home/+/temperature"))
        await settle(pilot)
        assert screen.selected == "home/room1/temperature"
        assert detail.border_title == "home/room1/temperature"


async def test_a_message_picked_in_the_log_leaves_the_detail_when_filtered_out():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        await pilot.click(MessageLogView, offset=(4, 1 + 8))  # sensors/raw
        await settle(pilot)
        assert screen.query_one(DetailView).border_title == "sensors/raw"
        screen.set_view_filter(ViewFilter("home/#"))
        await settle(pilot)
        assert screen.picked is None
        assert screen.query_one(DetailView).border_title != "sensors/raw"
        assert "00000000: 0001 0203" not in screen_text(app)


async def test_ctrl_l_takes_the_selected_topic_out_of_the_detail():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        screen.query_one(TopicTreeView).select("home/room2/state")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        detail = screen.query_one(DetailView)
        assert detail.border_title == "Message"
        assert "home/room2/state" not in screen_text(app)
        assert "Cleared: counting again from 0." in screen_text(app)
        # A new message on another topic does not bring the old one back.
        feed.push("home/new", "1")
        await tick(pilot, app)
        assert detail.border_title == "Message"
        assert screen.query_one(TopicTreeView).cursor is None


# -- b: the broker stats view --------------------------------------------------------


async def test_leaving_the_broker_stats_leaves_sys_and_forgets_it():
    feed = FakeFeed()
    seed(feed)
    app = build(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        await pilot.press("b")
        await settle(pilot)
        assert "$SYS/#" in feed.subs
        feed.push("$SYS/broker/uptime", "42 seconds")
        feed.push("$SYS/broker/clients/connected", "3")
        screen.tick()
        app.screen.refresh_figures()
        await settle(pilot)
        assert "uptime  42 seconds" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert feed.subs == {"home/#": 0, "mqchat/#": 0}
        assert "9 msgs" in screen_text(app)  # the seed's, not the broker's figures
        assert "$SYS" not in screen_text(app)
        assert screen.model.tree.topics_under("$SYS") == []
        assert all(not m.topic.startswith("$SYS") for m in screen.shown.log_rows)
        # One sent before the broker took the unsubscribe is not captured either.
        feed.push("$SYS/broker/uptime", "43 seconds")
        feed.push("home/after", "1")
        await tick(pilot, app)
        assert screen.model.tree.topics_under("$SYS") == []
        assert screen.model.store.last("home/after") is not None
        assert "10 msgs" in screen_text(app)
        # b again subscribes again, and its figures arrive again.
        await pilot.press("b")
        await settle(pilot)
        assert "$SYS/#" in feed.subs
        feed.push("$SYS/broker/uptime", "44 seconds")
        screen.tick()
        app.screen.refresh_figures()
        await settle(pilot)
        assert "uptime  44 seconds" in screen_text(app)


async def test_a_sys_subscription_of_the_users_own_stays():
    feed = FakeFeed()
    app = build(feed, filters=("home/#", "$SYS/#"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = inspector(app)
        feed.push("$SYS/broker/uptime", "42 seconds")
        await tick(pilot, app)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BrokerStatsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert "$SYS/#" in feed.subs
        feed.push("$SYS/broker/uptime", "43 seconds")
        await tick(pilot, app)
        last = screen.model.store.last("$SYS/broker/uptime")
        assert last is not None and last.payload == b"43 seconds"
        assert "$SYS" in screen_text(app)


# -- counts ------------------------------------------------------------------------


async def test_one_retained_message_is_counted_in_the_singular():
    feed = FakeFeed()
    seed(feed)
    feed.retained["home/room1/#"] = ["home/room1/temperature"]
    app = build(feed)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await pilot.press("R", *"home/room1/#", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "y clears this one (an empty retained message) · esc cancels" in text
        assert "these 1" not in text


async def test_the_export_dialog_counts_one_message_in_the_singular(tmp_path):
    feed = FakeFeed()
    feed.push("home/a", "1", ts=T0)
    app = build(feed, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await tick(pilot, app)
        await pilot.press("e")
        await settle(pilot)
        assert "1 captured message, oldest first" in screen_text(app)
