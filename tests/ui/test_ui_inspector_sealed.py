"""The inspector inside the chat shows a sealed message (protocol v3) as the broker
carried it, ciphertext, and with ``v`` once more, decrypted here through the chat
backend's ``unseal`` (a fake that opens one known payload): labelled, the inner
envelope pretty-printed and literal; "sealed: not for this device" when it does not
open; no such view for a plain payload nor in ``mqchat inspect``."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot

from mqchat.app import LoginDefaults, MqchatApp, make_app
from mqchat.inspector.payload import View
from mqchat.inspector.sealed import DECRYPTED_LABEL, NOT_FOR_US
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.screens.keys_help import KeysHelpScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.tree import TopicTreeView
from tests.support.fake_backend import (
    NOW,
    SEALED_FOR_ALICE,
    SEALED_FOR_CAROL,
    FakeBackend,
    fake_factory,
    seeded_backend,
)
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build as build_standalone
from tests.support.inspector_app import tick
from tests.support.screen import screen_text, settle

FROM_BOB = "mqchat/u/alice/inbox/bob"
CAROL_FROM_BOB = "mqchat/u/carol/inbox/bob"
PRESENCE = "mqchat/u/bob/presence"
CIPHERTEXT = json.loads(SEALED_FOR_ALICE)["sealed"]["ct"]


def fill(feed: FakeFeed) -> None:
    feed.push(FROM_BOB, SEALED_FOR_ALICE, qos=1, ts=T0 - 2)
    feed.push(CAROL_FROM_BOB, SEALED_FOR_CAROL, qos=1, ts=T0 - 1)
    feed.push(PRESENCE, '{"v":1,"state":"online"}', qos=1, retain=True, ts=T0)


def chat_app(backend: FakeBackend, feeds: list[FakeFeed]) -> MqchatApp:
    _, connect = fake_factory(backend)

    def inspector(_settings: object) -> FakeFeed:
        feed = FakeFeed()
        fill(feed)
        feeds.append(feed)
        return feed

    app = make_app(
        defaults=LoginDefaults(broker="mqtt://broker.test", user="alice", data_dir=Path("/tmp/x")),
        connect=connect,
        auto_login=True,
        clock=lambda: NOW,
        cursor_blink=False,
        inspector=inspector,
    )
    app.theme = "textual-dark"
    return app


async def open_inspector(pilot: Pilot[None], topic: str) -> InspectorScreen:
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, InspectorScreen)
    screen.tick()
    screen.query_one(TopicTreeView).select(topic)
    await settle(pilot)
    return screen


async def press_v(pilot: Pilot[None], times: int = 1) -> None:
    for _ in range(times):
        await pilot.press("v")
        await settle(pilot)


async def test_v_reaches_the_decrypted_view_of_a_sealed_message() -> None:
    backend = seeded_backend()
    app = chat_app(backend, [])
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_inspector(pilot, FROM_BOB)
        detail = screen.query_one(DetailView)
        text = screen_text(app)
        assert detail.view is View.JSON  # the wire first, as the broker saw it
        assert CIPHERTEXT in text
        assert "[decrypted]" in text
        assert "meet at 5" not in text
        assert backend.unsealed == []  # nothing opened before it is asked for
        seen = []
        for _ in range(4):
            await press_v(pilot)
            seen.append(detail.view)
        assert seen == [View.TEXT, View.HEX, View.BASE64, View.DECRYPTED]
        text = screen_text(app)
        assert DECRYPTED_LABEL in text
        assert '"body": "[bold red]meet at 5[/] \\u001b[2J"' in text  # literal
        assert '"type": "text"' in text
        assert CIPHERTEXT not in text
        assert backend.unsealed == [(FROM_BOB, SEALED_FOR_ALICE)]
        for _ in range(3):  # redraws do not decrypt again
            screen.tick()
            await settle(pilot)
        assert len(backend.unsealed) == 1
        await press_v(pilot)
        assert detail.view is View.JSON
        assert CIPHERTEXT in screen_text(app)


async def test_a_sealed_message_for_someone_else_is_not_for_this_device() -> None:
    backend = seeded_backend()
    app = chat_app(backend, [])
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_inspector(pilot, CAROL_FROM_BOB)
        await press_v(pilot, 4)
        assert screen.query_one(DetailView).view is View.DECRYPTED
        text = screen_text(app)
        assert NOT_FOR_US in text
        assert DECRYPTED_LABEL not in text
        assert backend.unsealed == [(CAROL_FROM_BOB, SEALED_FOR_CAROL)]


async def test_the_chosen_view_follows_the_selection() -> None:
    backend = seeded_backend()
    app = chat_app(backend, [])
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_inspector(pilot, FROM_BOB)
        await press_v(pilot, 4)
        screen.query_one(TopicTreeView).select(PRESENCE)  # plain: its detected view
        await settle(pilot)
        detail = screen.query_one(DetailView)
        assert detail.view is View.JSON
        assert "decrypted" not in screen_text(app)
        screen.query_one(TopicTreeView).select(FROM_BOB)  # sealed again: decrypted
        await settle(pilot)
        assert detail.view is View.DECRYPTED
        assert DECRYPTED_LABEL in screen_text(app)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelpScreen)
        assert "its decrypted view" in screen_text(app)


async def test_a_plain_payload_cycles_without_a_decrypted_view() -> None:
    backend = seeded_backend()
    app = chat_app(backend, [])
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_inspector(pilot, PRESENCE)
        detail = screen.query_one(DetailView)
        seen = []
        for _ in range(4):
            await press_v(pilot)
            seen.append(detail.view)
        assert seen == [View.TEXT, View.HEX, View.BASE64, View.JSON]
        assert "decrypted" not in screen_text(app)
        assert backend.unsealed == []


async def test_after_the_chat_stopped_nothing_opens() -> None:
    backend = seeded_backend()
    app = chat_app(backend, [])
    async with app.run_test(size=(120, 50)) as pilot:
        await open_inspector(pilot, FROM_BOB)
        await app.stop_backend()
        await press_v(pilot, 4)
        assert NOT_FOR_US in screen_text(app)
        assert backend.unsealed == []


async def test_standalone_only_says_sealed() -> None:
    feed = FakeFeed()
    fill(feed)
    app = build_standalone(feed)
    async with app.run_test(size=(120, 50)) as pilot:
        await tick(pilot, app)
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        screen.query_one(TopicTreeView).select(FROM_BOB)
        await settle(pilot)
        detail = screen.query_one(DetailView)
        assert "(detected: json, sealed)" in screen_text(app)
        seen = []
        for _ in range(4):
            await press_v(pilot)
            seen.append(detail.view)
        assert seen == [View.TEXT, View.HEX, View.BASE64, View.JSON]
        text = screen_text(app)
        assert "decrypted" not in text
        assert NOT_FOR_US not in text


def test_snapshot_decrypted_view(snap_compare) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await open_inspector(pilot, FROM_BOB)
        await press_v(pilot, 4)

    assert snap_compare(chat_app(seeded_backend(), []), terminal_size=(100, 30), run_before=run)
