"""SVG snapshots of the inspector at 100x30 from fixed messages, a fixed clock and
TZ=UTC. Update with ``pytest tests/ui/test_ui_inspector_snapshots.py
--snapshot-update`` and look at the SVGs in ``snapshots/test_ui_inspector_snapshots/``
(``rsvg-convert`` makes PNGs of them) before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import FakeFeed, seed
from tests.support.inspector_app import build

SIZE = (100, 30)


def steps(
    select: str | None = None, *presses: str, then: Callable[[], object] | None = None
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A ``run_before``: let the app settle, take the messages, select ``select`` in
    the tree, press ``presses``, call ``then``, settle again. No timing involved."""

    async def run(pilot: Pilot[None]) -> None:
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
        if then is not None:
            then()
        for _ in range(5):
            await pilot.pause()

    return run


def test_inspector_numeric_topic(snap_compare):
    feed = FakeFeed()
    seed(feed)
    assert snap_compare(build(feed), terminal_size=SIZE, run_before=steps("home/room1/temperature"))


def test_inspector_json_with_properties_filtered_and_paused(snap_compare):
    feed = FakeFeed()
    seed(feed)

    async def filtered(pilot: Pilot[None]) -> None:
        await steps("home/room2/state", "slash", *"home/#", "enter", "space")(pilot)

    assert snap_compare(build(feed), terminal_size=SIZE, run_before=filtered)


def test_inspector_clear_retained_dry_run(snap_compare):
    feed = FakeFeed()
    seed(feed)
    feed.retained["home/#"] = [f"home/room{i}/setpoint" for i in range(1, 16)]
    assert snap_compare(build(feed), terminal_size=SIZE, run_before=steps("home", "R", "enter"))


def test_inspector_broker_stats(snap_compare):
    feed = FakeFeed()
    for topic, value in (
        ("version", "mosquitto version 2.0.11"),
        ("uptime", "3605 seconds"),
        ("clients/connected", "12"),
        ("clients/maximum", "40"),
        ("subscriptions/count", "31"),
        ("messages/received", "812404"),
        ("messages/sent", "1624808"),
        ("load/messages/received/1min", "2153.41"),
        ("heap/current", "2338816"),
    ):
        feed.push(f"$SYS/broker/{topic}", value, ts=1_795_356_290.0)
    assert snap_compare(build(feed), terminal_size=SIZE, run_before=steps(None, "b"))
