"""The standalone inspector app on a :class:`~tests.support.fake_feed.FakeFeed`, with
a fixed clock and no cursor blink, and the steps its UI tests take on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from textual.pilot import Pilot

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.inspect_app import InspectApp, make_inspect_app
from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_feed import T0, FakeFeed
from tests.support.screen import settle

__all__ = ["build", "inspector", "notes", "select", "tick"]


def build(
    feed: FakeFeed,
    tmp_path: Path | None = None,
    *,
    filters: Sequence[str] = ("home/#", "mqchat/#"),
    store: CaptureStore | None = None,
    decoding: Decoding | None = None,
    formats: Mapping[str, Format] | None = None,
    remember: Callable[[str, str | None], str | None] | None = None,
    watch: WatchOptions | None = None,
    clock: Callable[[], float] = lambda: T0,
    config_path: Path | None = None,
) -> InspectApp:
    settings = Settings(
        broker=parse_broker_url("mqtt://broker.test"),
        user="",
        data_dir=tmp_path or Path("/nonexistent"),
    )
    app = make_inspect_app(
        settings=settings,
        connect=lambda _settings: feed,
        filters=filters,
        clock=clock,
        store=store,
        cursor_blink=False,
        decoding=decoding,
        formats=formats,
        remember=remember,
        watch=watch,
        config_path=config_path,
    )
    app.theme = "textual-dark"
    return app


def inspector(app: InspectApp) -> InspectorScreen:
    assert isinstance(app.screen, InspectorScreen)
    return app.screen


def notes(app: InspectApp) -> list[str]:
    return [n.message for n in app._notifications]


async def tick(pilot: Pilot[None], app: InspectApp) -> None:
    inspector(app).tick()
    await settle(pilot)


async def select(pilot: Pilot[None], app: InspectApp, path: str) -> None:
    inspector(app).query_one(TopicTreeView).select(path)
    await settle(pilot)
