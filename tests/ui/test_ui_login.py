"""The login screen: validation before anything is sent, and what a failed first
connection looks like."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from mqchat.app import LoginDefaults, make_app
from mqchat.chat.backend import ChatBackend
from mqchat.config.settings import Settings
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.login import LoginScreen
from tests.support.fake_backend import NOW, FakeBackend

CONNECTING = ConnectionChanged(ConnectionState.CONNECTING)


def set_field(app, field: str, value: str) -> None:
    app.screen.query_one(f"#{field}", Input).value = value


def login_message(app) -> str:
    """The line under the form (it may wrap on screen)."""
    return str(app.screen.query_one("#login-message", Static).render())


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ("bad/name", "contains '/'"),
        ("a+b", "contains '+'"),
        ("a#", "contains '#'"),
        ("a b", "contains a space"),
        ("", "is empty"),
        ("x" * 33, "longer than 32"),
    ],
)
async def test_invalid_user_name_is_refused_before_connecting(
    build_app, screen_text, settle, user, says
):
    app, calls = build_app(auto_login=False)
    async with app.run_test(size=(100, 30)) as pilot:
        set_field(app, "user", user)
        await pilot.click("#connect")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert says in screen_text(app)
        assert app.screen.focused is app.screen.query_one("#user")
    assert calls == []


async def test_typed_user_name_with_markup_is_shown_literally(build_app, screen_text, settle):
    app, calls = build_app(auto_login=False, defaults=LoginDefaults())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"[b]x", "enter")
        await settle(pilot)
        assert "'[b]x' contains '['" in screen_text(app)
    assert calls == []


@pytest.mark.parametrize(
    ("url", "says"),
    [("http://example.com", "unsupported scheme 'http'"), ("", "the broker URL is empty")],
)
async def test_bad_broker_url_is_refused(build_app, screen_text, settle, url, says):
    app, calls = build_app(auto_login=False)
    async with app.run_test(size=(100, 30)) as pilot:
        set_field(app, "broker", url)
        await pilot.press("enter")
        await settle(pilot)
        assert says in screen_text(app)
        assert app.screen.focused is app.screen.query_one("#broker")
    assert calls == []


async def test_successful_login_builds_settings_and_reaches_friends(
    build_app, backend, settle, tmp_path
):
    app, calls = build_app(
        auto_login=False,
        defaults=LoginDefaults(broker="mqtt://broker.test:1884", user="alice", data_dir=tmp_path),
    )
    async with app.run_test(size=(100, 30)) as pilot:
        set_field(app, "display-name", "Alice A.")
        set_field(app, "password", "s3cret")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert backend.run_started.is_set()
    [settings] = calls
    assert (settings.user, settings.display_name, settings.password) == (
        "alice",
        "Alice A.",
        "s3cret",
    )
    assert (settings.broker.host, settings.broker.port) == ("broker.test", 1884)
    assert settings.data_dir == tmp_path


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionChanged(ConnectionState.FAILED, "not authorised (bad user name or password)"),
        ConnectionChanged(
            ConnectionState.RETRYING, "not authorised (bad user name or password)", 1.0
        ),
    ],
    ids=["failed", "retrying"],
)
async def test_failed_first_connection_shows_detail_and_stays(
    build_app, screen_text, settle, failure
):
    fake = FakeBackend(connect_events=[CONNECTING, failure])
    app, calls = build_app(auto_login=False, fake=fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert login_message(app) == (
            "✗ could not connect to broker.test:1883: not authorised (bad user name or password)"
        )
        assert "✗ could not connect to broker.test:1883" in screen_text(app)
        assert fake.stop_calls == 1
        assert not app.screen.query_one("#password", Input).disabled
        assert app.backend is None
    assert len(calls) == 1


async def test_login_can_be_retried_after_a_failure(screen_text, settle, tmp_path):
    attempts = [
        FakeBackend(connect_events=[CONNECTING, ConnectionChanged(ConnectionState.FAILED, "nope")]),
        FakeBackend(),
    ]
    seen: list[Settings] = []

    def connect(settings: Settings) -> ChatBackend:
        seen.append(settings)
        return attempts[len(seen) - 1]

    app = make_app(
        defaults=LoginDefaults(user="alice", data_dir=tmp_path),
        connect=connect,
        clock=lambda: NOW,
        cursor_blink=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert "nope" in screen_text(app)
        await pilot.press(*"pw", "enter")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
    assert [s.password for s in seen] == [None, "pw"]
    assert attempts[0].stop_calls == 1


async def test_waiting_for_the_broker_can_be_cancelled(build_app, screen_text, settle):
    fake = FakeBackend(connect_events=[CONNECTING])  # never answers
    app, _ = build_app(auto_login=False, fake=fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert "connecting to broker.test:1883…" in screen_text(app)
        assert app.screen.query_one("#user", Input).disabled
        await pilot.press("escape")
        await settle(pilot)
        assert "cancelled" in screen_text(app)
        assert fake.stop_calls == 1
        assert isinstance(app.screen, LoginScreen)


async def test_auto_login_with_an_invalid_user_shows_the_form(build_app, screen_text, settle):
    app, calls = build_app(auto_login=True, defaults=LoginDefaults(user="a/b", data_dir=Path(".")))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "contains '/'" in screen_text(app)
    assert calls == []
