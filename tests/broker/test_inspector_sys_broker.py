"""The broker stats view against a real mosquitto that publishes ``$SYS`` every
second: ``b`` in the inspector subscribes to ``$SYS/#`` and shows what it says, and
leaving the view unsubscribes again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.inspect_app import make_inspect_app
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.feed import InspectorFeed
from mqchat.screens.inspector.broker_stats import BrokerStatsScreen
from tests.support.mosquitto import Mosquitto, require_mosquitto
from tests.support.screen import screen_text, shown


@pytest.fixture
def sys_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    require_mosquitto()
    server = Mosquitto(tmp_path / "mosquitto", extra_config="sys_interval 1\n").start()
    yield server
    server.stop()


async def test_b_shows_mosquittos_own_figures(sys_broker: Mosquitto, tmp_path: Path) -> None:
    settings = Settings(broker=parse_broker_url(sys_broker.url), user="", data_dir=tmp_path)
    app = make_inspect_app(settings=settings, connect=InspectorFeed, filters=["nothing/here"])
    async with app.run_test(size=(110, 40)) as pilot:
        await shown(pilot, lambda: "● connected" in screen_text(app))
        await pilot.press("b")
        await shown(pilot, lambda: isinstance(app.screen, BrokerStatsScreen))
        # The retained figures at once, then fresh ones every sys_interval.
        await shown(pilot, lambda: "mosquitto version" in screen_text(app))
        await shown(pilot, lambda: "clients connected  1" in screen_text(app))  # ourselves
        text = screen_text(app)
        assert "version  mosquitto version 2." in text
        assert "$SYS/broker/clients/connected" in text  # and the full table
        assert "$SYS/#" in app.backend.subscriptions
        await pilot.press("escape")
        await app.inspector.stop_backend()


async def test_leaving_the_stats_view_unsubscribes_sys(sys_broker: Mosquitto, tmp_path: Path):
    settings = Settings(broker=parse_broker_url(sys_broker.url), user="", data_dir=tmp_path)
    app = make_inspect_app(settings=settings, connect=InspectorFeed, filters=["marks/#"])
    async with app.run_test(size=(110, 40)) as pilot:
        await shown(pilot, lambda: "● connected" in screen_text(app))
        await pilot.press("b")
        await shown(pilot, lambda: "clients connected  1" in screen_text(app))
        await pilot.press("escape")
        screen = app.inspector
        assert screen is not None
        await shown(pilot, lambda: app.screen is screen)
        assert dict(app.backend.subscriptions) == {"marks/#": 0}
        store, backend = screen.model.store, app.backend
        # A mark on the same connection goes after the unsubscribe; from when it is
        # back, two of mosquitto's sys_intervals (1 s) pass: no $SYS may come in them.
        await backend.publish(PublishRequest("marks/1", b"1"))
        await shown(pilot, lambda: store.last("marks/1") is not None)
        received = backend.received
        await asyncio.sleep(2.2)  # the broker's timer: nothing to wait for but time
        await backend.publish(PublishRequest("marks/2", b"2"))
        await shown(pilot, lambda: store.last("marks/2") is not None)
        assert backend.received == received + 1  # the mark, and no $SYS at all
        assert screen.model.tree.topics_under("$SYS") == []
        assert "$SYS" not in screen_text(app)
        await screen.stop_backend()
