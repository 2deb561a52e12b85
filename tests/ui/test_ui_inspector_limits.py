"""The inspector's bounds as a user meets them: a full topic tree is said so on the
status line (the log still shows every message), a topic deeper than the tree goes
is one node marked as cut, a payload cut on receipt says how much was shown, and a
flood larger than one tick's take goes on being taken before the next tick."""

from __future__ import annotations

from mqchat.inspector.backend import Received
from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.topic_tree import MAX_LEVELS
from mqchat.screens.inspector import screen as inspector_screen
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, inspector, select, tick
from tests.support.screen import screen_text


async def test_a_full_tree_is_shown_on_the_status_line_and_the_log_has_everything():
    feed = FakeFeed()
    app = build(feed, store=CaptureStore(max_topics=3))
    async with app.run_test(size=(160, 30)) as pilot:
        for n in range(2):
            feed.push(f"home/room{n}", f"{20 + n}")
        await tick(pilot, app)
        assert "tree full" not in screen_text(app)
        for n in range(2, 5):
            feed.push(f"home/room{n}", f"{20 + n}")
        feed.push("home/room4", "30")
        await tick(pilot, app)
        text = screen_text(app)
        assert "tree full: 3 topics; 2 older topics (2 msgs) forgotten" in text
        assert "6 msgs" in text
        paths = [r.path for r in app.screen.query_one(TopicTreeView).rows]
        assert paths == ["home", "home/room2", "home/room3", "home/room4"]
        for n in range(5):
            assert f"home/room{n}" in text  # the log still shows the forgotten topics


async def test_a_topic_deeper_than_the_tree_is_one_node_marked_as_cut():
    feed = FakeFeed()
    topic = "/".join(["home", *[f"l{n}" for n in range(1, 30_000)]])
    app = build(feed, filters=("#",))
    async with app.run_test(size=(160, 40)) as pilot:
        feed.push(topic, "deep")
        await tick(pilot, app)
        await select(pilot, app, topic)  # opens every level above it
        tree = app.screen.query_one(TopicTreeView)
        assert len(tree.rows) == MAX_LEVELS
        cut = tree.highlighted
        assert cut is not None and cut.path == topic and cut.folded == 30_000 - MAX_LEVELS + 1
        text = screen_text(app)
        assert f"✂ l{MAX_LEVELS - 1}/l{MAX_LEVELS}/" in text
        assert "topic cut: 30,000 levels; the tree folds the last 29,745 into one node" in text


async def test_a_payload_cut_on_receipt_says_how_much_was_shown():
    feed = FakeFeed()
    app = build(feed)
    async with app.run_test(size=(160, 40)) as pilot:
        big = Received("home/big", b"x" * 1000, 0, False, None, T0, 104_857_600)
        feed.buffer.append(big)
        feed.count += 1
        await tick(pilot, app)
        await select(pilot, app, "home/big")
        text = screen_text(app)
        assert "104,857,600 bytes" in text
        assert "payload cut: showed 1,000 of 104,857,600 bytes" in text


async def test_a_flood_beyond_one_ticks_take_is_taken_before_the_next_tick(monkeypatch):
    """Ticks an hour apart: one tick takes at most MAX_PER_TICK, and the rest must
    follow in slices on their own, or the status line lags the flood by ticks."""
    monkeypatch.setattr(inspector_screen, "TICK", 3600.0)
    feed = FakeFeed()
    app = build(feed, filters=("flood/#",))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = inspector(app)
        total = inspector_screen.MAX_PER_TICK * 2 + 500
        for i in range(total):
            feed.push(f"flood/{i % 100}", b"%d" % i)
        screen.tick()
        assert screen.model.total <= inspector_screen.MAX_PER_TICK
        for _ in range(400):  # slices 10 ms apart; bounded, as a broken loop would hang
            if screen.model.total == total:
                break
            await pilot.pause(0.02)
        assert screen.model.total == total
        assert not feed.buffer
