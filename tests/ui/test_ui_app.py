"""The App around the screens: status bar, auto-login, opening a peer, quitting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mqchat.app import LoginDefaults, make_app
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.modals import AddContactScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.status_bar import StatusBar
from tests.support.fake_backend import NOW, fake_factory


def status_line(screen_text: str) -> str:
    return screen_text.splitlines()[0]


async def test_status_bar_shows_who_where_and_the_connection(
    build_app, backend, screen_text, settle
):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        line = status_line(screen_text(app))
        assert line.startswith(" mqchat · alice@broker.test:1883")
        assert line.rstrip().endswith("● connected")
        backend.connection(
            ConnectionChanged(ConnectionState.RETRYING, "connection refused", retry_in=4.2)
        )
        backend.reject("mqchat/u/alice/inbox/eve", "from disagrees with topic")
        await settle(pilot)
        line = status_line(screen_text(app))
        assert "1 rejected  ○ disconnected — retrying in 4s: connection refused" in line
        backend.connection(ConnectionChanged(ConnectionState.CONNECTING))
        await settle(pilot)
        assert status_line(screen_text(app)).rstrip().endswith("1 rejected  ◌ connecting…")


async def test_status_bar_of_a_screen_underneath_is_current_when_back(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.connection(ConnectionChanged(ConnectionState.RETRYING, "gone", retry_in=2))
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert "retrying in 2s: gone" in status_line(screen_text(app))
        assert len(app.screen.query(StatusBar)) == 1


async def test_auto_login_opens_a_new_peer(build_app, backend, settle):
    app, calls = build_app(open_peer="zed")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.peer == "zed"
        assert "zed" in backend.contact_list
        assert isinstance(app.screen_stack[-2], FriendsScreen)
    assert [s.user for s in calls] == ["alice"]


async def test_keys_typed_while_a_peer_opens_never_reach_the_friends_screen(
    build_app, backend, settle, monkeypatch
):
    """``mqchat chat zed`` sends zed a request before the conversation shows. Typing
    meanwhile must not act on the friends screen ("b" blocks there, "d" removes)."""
    gate = asyncio.Event()
    add_contact = backend.add_contact

    async def slow_add_contact(user: str):
        await gate.wait()
        return await add_contact(user)

    monkeypatch.setattr(backend, "add_contact", slow_add_contact)
    app, _ = build_app(open_peer="zed")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not any(isinstance(s, FriendsScreen) for s in app.screen_stack)
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press(*"hello bob")
        assert app.screen.query_one("#compose", Composer).text == "hello bob"
        assert [type(s) for s in app.screen_stack[-2:]] == [FriendsScreen, ConversationScreen]
        assert backend.added == ["zed"] and not backend.blocked


async def test_an_invalid_peer_to_open_is_explained(build_app, backend, settle):
    app, _ = build_app(open_peer="no/such")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        [note] = app._notifications
        assert "contains '/'" in note.message


async def test_auto_login_shows_connection_trouble_in_the_status_bar(
    build_app, backend, screen_text, settle
):
    backend.connect_events = [
        ConnectionChanged(ConnectionState.CONNECTING),
        ConnectionChanged(ConnectionState.RETRYING, "connection refused", retry_in=1),
    ]
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)  # usable while the backend retries
        assert "retrying in 1s: connection refused" in status_line(screen_text(app))
        assert backend.stop_calls == 0


async def test_ctrl_q_stops_the_backend_then_exits(build_app, backend, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert backend.stop_calls == 1
        assert app._exit
    assert backend.stop_calls == 1


async def test_any_other_exit_stops_the_backend_too(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.exit()
        await settle(pilot)
        assert backend.stop_calls == 1
    assert backend.stop_calls == 1


async def test_closing_the_test_harness_stops_the_backend(build_app, backend, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
    assert backend.stop_calls == 1
    assert backend.listener is None


async def test_bindings_can_be_remapped_by_id(backend, settle):
    _, connect = fake_factory(backend)
    app = make_app(
        defaults=LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
        connect=connect,
        auto_login=True,
        clock=lambda: NOW,
        keymap={"friends.add": "n"},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AddContactScreen)


async def test_mqtt_3_fallback_is_shown_and_told_once(build_app, backend, screen_text, settle):
    fallback = ConnectionChanged(
        ConnectionState.CONNECTED,
        "the broker refused MQTT 5; connected with MQTT 3.1.1 [b]x[/b]",
        protocol="3.1.1",
    )
    backend.connect_events = [ConnectionChanged(ConnectionState.CONNECTING), fallback]
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert status_line(screen_text(app)).rstrip().endswith("● connected  MQTT 3.1.1")
        [note] = app._notifications
        assert note.message == "the broker refused MQTT 5; connected with MQTT 3.1.1 [b]x[/b]"
        assert note.title == "Using MQTT 3.1.1" and not note.markup
        backend.connection(ConnectionChanged(ConnectionState.RETRYING, "gone", retry_in=1))
        backend.reject("mqchat/u/alice/inbox/eve", "bad json")
        await settle(pilot)
        line = status_line(screen_text(app))
        assert "MQTT 3.1.1" not in line and "1 rejected" in line
        backend.connection(fallback)
        await settle(pilot)
        assert (
            status_line(screen_text(app)).rstrip().endswith("1 rejected  ● connected  MQTT 3.1.1")
        )
        assert len(app._notifications) == 1  # told once, not at every reconnection


async def test_mqtt_5_says_nothing_about_the_protocol(build_app, backend, screen_text, settle):
    backend.connect_events = [ConnectionChanged(ConnectionState.CONNECTED, protocol="5")]
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert status_line(screen_text(app)).rstrip().endswith("● connected")
        assert len(app._notifications) == 0
