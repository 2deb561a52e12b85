"""Clearing retained messages from the inspector against a real mosquitto: ``R``
lists what is retained under a filter, ``y`` clears exactly that, and afterwards the
broker holds none of it (while a live topic beside them keeps its value).

The passes that clear what a device publishes again (up to 3) are tested with a
fake backend (tests/ui/test_ui_inspector.py): on a real broker, whether the next
look sees a republished value depends on which packet wins a race of a few
milliseconds, as with ``mqchat clear-retained``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiomqtt
from textual.widgets import Input

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.inspect_app import make_inspect_app
from mqchat.inspector.feed import InspectorFeed
from mqchat.screens.inspector.clear import ClearRetainedScreen
from mqchat.screens.inspector.screen import InspectorScreen
from tests.support.mosquitto import Mosquitto
from tests.support.screen import screen_text, shown


async def retained_under(port: int, topic_filter: str) -> set[str]:
    """What mosquitto holds retained under ``topic_filter`` right now: the retained
    messages come first, then a marker published after subscribing."""
    async with aiomqtt.Client("127.0.0.1", port) as probe:
        await probe.subscribe([(topic_filter, 1), ("probe/done", 1)])
        await probe.publish("probe/done", b"", qos=1)
        found: set[str] = set()
        async with asyncio.timeout(5):
            async for message in probe.messages:
                if str(message.topic) == "probe/done":
                    return found
                if message.retain:
                    found.add(str(message.topic))
    return found


def notes(app: object) -> str:
    return " ".join(n.message for n in app._notifications)  # type: ignore[attr-defined]


async def test_clear_retained_on_a_real_broker(own_broker: Mosquitto, tmp_path: Path) -> None:
    port = own_broker.port
    async with aiomqtt.Client("127.0.0.1", port) as seed:
        for topic in ("dev/a", "dev/b", "dev/c/state", "other/kept"):
            await seed.publish(topic, b"on", qos=1, retain=True)
    settings = Settings(broker=parse_broker_url(own_broker.url), user="", data_dir=tmp_path)
    app = make_inspect_app(settings=settings, connect=InspectorFeed, filters=["dev/#"])
    async with app.run_test(size=(110, 40)) as pilot:
        await shown(pilot, lambda: "● connected" in screen_text(app))
        await pilot.press("R")
        await shown(pilot, lambda: isinstance(app.screen, ClearRetainedScreen))
        app.screen.query_one("#c-filter", Input).value = "dev/#"
        await pilot.press("enter")
        await shown(pilot, lambda: "3 retained under dev/#" in screen_text(app))
        assert await retained_under(port, "#") == {"dev/a", "dev/b", "dev/c/state", "other/kept"}
        await pilot.press("y")
        await shown(pilot, lambda: "Cleared 3 retained messages under dev/#." in notes(app))
        assert isinstance(app.screen, InspectorScreen)
        await app.inspector.stop_backend()
    assert await retained_under(port, "#") == {"other/kept"}
