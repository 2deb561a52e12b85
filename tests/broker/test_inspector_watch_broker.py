"""Watch rules on a real mosquitto: what the inspector's own feed receives crosses a
bound and is a toast with the topic's row marked, once per crossing, with real
arrival times; top talkers count what really arrived."""

from __future__ import annotations

from pathlib import Path

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.config.watch_rules import check_watch_rule
from mqchat.inspect_app import make_inspect_app
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.feed import InspectorFeed
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.talkers import TopTalkersScreen
from tests.support.mosquitto import Mosquitto
from tests.support.screen import screen_text, shown


async def test_a_real_crossing_is_told_once(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    settings = Settings(broker=parse_broker_url(broker.url), user="", data_dir=tmp_path)
    rule = check_watch_rule({"filter": f"{namespace}/plant/+/boiler", "field": "temp", "above": 90})
    app = make_inspect_app(
        settings=settings,
        connect=InspectorFeed,
        filters=[f"{namespace}/#"],
        watch=WatchOptions(rules=(rule,), bell=False),
    )
    async with app.run_test(size=(110, 40)) as pilot:
        await shown(pilot, lambda: "● connected" in screen_text(app))
        screen, backend = app.inspector, app.backend
        assert screen is not None
        store = screen.model.store
        for temp in (80, 95, 97, 85, 92):
            await backend.publish(
                PublishRequest(f"{namespace}/plant/a/boiler", f'{{"temp": {temp}}}'.encode())
            )
        await shown(
            pilot,
            lambda: (s := store.stats(f"{namespace}/plant/a/boiler")) is not None and s.count == 5,
        )
        await shown(pilot, lambda: screen.watcher.fired == 2)
        await shown(pilot, lambda: len(app._notifications) == 2)  # toasts are posted
        told = [n.message for n in app._notifications]
        assert told == [
            f"{namespace}/plant/a/boiler: temp 95 > 90",
            f"{namespace}/plant/a/boiler: temp 92 > 90",
        ]
        await shown(pilot, lambda: "1 alerting" in screen_text(app))

        await pilot.press("t")
        await shown(pilot, lambda: isinstance(app.screen, TopTalkersScreen))
        talkers = app.screen
        assert isinstance(talkers, TopTalkersScreen)
        for _ in range(20):
            await backend.publish(PublishRequest(f"{namespace}/plant/b/flow", b"1.5"))
        await shown(
            pilot,
            lambda: (s := store.stats(f"{namespace}/plant/b/flow")) is not None and s.count == 20,
        )
        await shown(pilot, lambda: talkers.meter.ready and bool(talkers.rows), timeout=5)
        await shown(pilot, lambda: talkers.rows[0].prefix == namespace and talkers.rows[0].rate > 0)
        await pilot.press("escape")
        await screen.stop_backend()
