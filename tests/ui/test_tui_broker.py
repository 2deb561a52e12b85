"""The TUI with its real backend against a real mosquitto: a person logs in through the
form, chats with a peer, sees the peer's presence, and quits cleanly."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mqchat.app import LoginDefaults, make_app
from mqchat.chat.service import ChatService
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived
from mqchat.core.model import ChatMessage
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.login import LoginScreen
from tests.support.chat_session import running
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.screen import screen_text

pytestmark = pytest.mark.broker


async def until(pilot: Pilot[object], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (the UI has no event to await)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within 10s:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


def with_namespace(ns: str) -> Callable[[Settings], ChatService]:
    from dataclasses import replace

    return lambda settings: ChatService(replace(settings, namespace=ns, keepalive=5))


async def log_in(pilot: Pilot[object], user: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen), "login screen")
    pilot.app.screen.query_one("#user", Input).value = user
    pilot.app.screen.query_one("#display-name", Input).value = user.title()
    await pilot.click("#connect")


async def test_login_chat_and_quit(broker: Mosquitto, namespace: str, tmp_path: Path) -> None:
    app = make_app(
        defaults=LoginDefaults(broker=broker.url, data_dir=tmp_path),
        connect=with_namespace(namespace),
        cursor_blink=False,
    )
    async with (
        running(broker, "bob", namespace, tmp_path) as (bob, b_events),
        app.run_test(size=(100, 30)) as pilot,
    ):
        await log_in(pilot, "alice")
        await until(pilot, lambda: isinstance(app.screen, FriendsScreen), "friends screen")
        assert "● connected" in screen_text(app)
        await app.open_conversation("bob")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen), "conversation")
        await until(pilot, lambda: "● online" in screen_text(app), "bob online in the header")

        await pilot.press(*"hello from the form", "enter")
        got = await b_events.wait_for(ChatReceived)
        assert got.message.body == "hello from the form"
        await bob.send_text("alice", "got it")
        await until(pilot, lambda: "got it" in screen_text(app), "bob's answer")
        await until(pilot, lambda: "✓✓" in screen_text(app), "delivered mark")

        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, "exit")
    async with aiomqtt.Client("127.0.0.1", broker.port) as late:
        await late.subscribe(f"{namespace}/u/alice/presence", qos=1)
        msg = await asyncio.wait_for(anext(aiter(late.messages)), 5)
        assert isinstance(msg.payload, bytes)
        assert json.loads(msg.payload)["state"] == "offline"


async def test_unreachable_broker_keeps_the_login_screen_with_the_reason(tmp_path: Path) -> None:
    app = make_app(
        defaults=LoginDefaults(broker=f"mqtt://127.0.0.1:{free_port()}", data_dir=tmp_path),
        connect=ChatService,
        cursor_blink=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(pilot, "alice")
        await until(pilot, lambda: "connection refused" in screen_text(app), "the reason")
        assert isinstance(app.screen, LoginScreen)
        assert app.backend is None


class _BrokenHistory(ChatService):
    """A chat whose history fails when a conversation opens: a bug nobody handled."""

    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        raise RuntimeError("the history broke")


async def test_a_crash_exits_1_and_the_will_tells_friends_at_once(
    broker: Mosquitto, namespace: str, tmp_path: Path
) -> None:
    # It used to exit 0 after a clean DISCONNECT: the broker discarded the Will and
    # alice stayed "online" to everyone for good.
    from dataclasses import replace

    app = make_app(
        defaults=LoginDefaults(broker=broker.url, data_dir=tmp_path),
        connect=lambda s: _BrokenHistory(replace(s, namespace=namespace, keepalive=60)),
        cursor_blink=False,
    )
    async with aiomqtt.Client("127.0.0.1", broker.port) as spy:
        await spy.subscribe(f"{namespace}/u/alice/presence", qos=1)
        states = aiter(spy.messages)
        with pytest.raises(RuntimeError, match="the history broke"):
            async with app.run_test(size=(100, 30)) as pilot:
                await log_in(pilot, "alice")
                await until(pilot, lambda: isinstance(app.screen, FriendsScreen), "friends")
                online = await asyncio.wait_for(anext(states), 5)
                assert isinstance(online.payload, bytes)
                assert json.loads(online.payload)["state"] == "online"
                crashed_at = time.monotonic()
                await app.open_conversation("bob")
                await until(pilot, lambda: not app.is_running, "the app to end")
        assert app.return_code == 1 and isinstance(app.crash, RuntimeError)
        # keepalive 60 s: only a dropped connection (no DISCONNECT) gets the Will out
        # this fast; a clean DISCONNECT would discard it.
        gone = await asyncio.wait_for(anext(states), 5)
        assert time.monotonic() - crashed_at < 5
        assert isinstance(gone.payload, bytes)
        assert json.loads(gone.payload)["state"] == "offline"
        assert json.loads(gone.payload)["lost"] is True
