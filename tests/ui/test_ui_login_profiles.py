"""Profiles on the login screen: pick one to fill the form (and the TLS options,
namespace… the form does not show), and ``ctrl+s`` to save the form as one, never
with its password."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from textual.widgets import Input, Select

from mqchat.app import LoginDefaults
from mqchat.config.loader import choose_profile, standard_layers
from mqchat.config.profiles import Profile, load_config, save_profile
from mqchat.config.tls_options import TlsOptions
from mqchat.screens.login import LoginScreen
from mqchat.screens.login_profile import SaveProfileScreen


def defaults_with(config: Path, chosen: str | None = None) -> LoginDefaults:
    loaded = load_config(config)
    return LoginDefaults(
        user="alice",
        data_dir=Path("/nonexistent"),
        profiles=dict(loaded.profiles),
        profile=chosen,
        config_path=config,
    )


def field(app, name: str) -> str:
    return app.screen.query_one(f"#{name}", Input).value


async def test_picking_a_profile_fills_the_form_and_connects_with_all_of_it(
    build_app, screen_text, settle, tmp_path
):
    config = tmp_path / "config.toml"
    save_profile(config, "home", Profile(broker="mqtt://pi.local", user="al"))
    save_profile(
        config,
        "work",
        Profile(
            broker="mqtts://mq.example.com",
            user="alice",
            display_name="Alice W",
            namespace="acme/chat",
            mqtt_version="3.1.1",
            keepalive=40,
            session_expiry="12h",
            cafile="/etc/ssl/acme.pem",
        ),
    )
    app, calls = build_app(auto_login=False, defaults=defaults_with(config, "home"))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert field(app, "broker") == "mqtt://localhost:1883"  # what the command line said
        app.screen.query_one("#profile", Select).value = "work"
        await settle(pilot)
        assert (field(app, "broker"), field(app, "user"), field(app, "display-name")) == (
            "mqtts://mq.example.com",
            "alice",
            "Alice W",
        )
        assert "profile work" in screen_text(app)
        await pilot.press(*"pw", "enter")
        await settle(pilot)
    [settings] = calls
    assert settings.broker.host == "mq.example.com"
    assert settings.namespace == "acme/chat"
    assert settings.mqtt_version == "3.1.1"
    assert (settings.keepalive, settings.session_expiry) == (40, 12 * 3600)
    assert settings.tls == TlsOptions(cafile=Path("/etc/ssl/acme.pem"))
    assert settings.password == "pw"


async def test_a_profile_with_a_bad_value_says_so(build_app, screen_text, settle, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.odd]\nbroker = "mqtt://h"\nmqtt_version = "7"\n')
    app, calls = build_app(auto_login=False, defaults=defaults_with(config))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#profile", Select).value = "odd"
        await settle(pilot)
        assert "profile odd: unknown MQTT version '7'" in screen_text(app)
    assert calls == []


async def test_ctrl_s_saves_the_form_as_a_profile_without_the_password(
    build_app, screen_text, settle, tmp_path
):
    config = tmp_path / "conf" / "config.toml"
    app, calls = build_app(auto_login=False, defaults=defaults_with(config))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#broker", Input).value = "mqtt://chat.example.org:1884"
        screen.query_one("#display-name", Input).value = "Alice"
        screen.query_one("#password", Input).value = "s3cret-pw"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SaveProfileScreen)
        await pilot.press(*"bad name", "enter")
        await settle(pilot)
        assert "a profile name is" in screen_text(app)
        await pilot.press(*["backspace"] * 8, *"club", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        shown = screen_text(app)
        assert "saved profile club to" in shown and "the password is not saved" in shown
        assert app.screen.query_one("#profile", Select).value == "club"
    assert calls == []
    text = config.read_text()
    assert "s3cret-pw" not in text
    assert load_config(config).profile("club") == Profile(
        broker="mqtt://chat.example.org:1884", user="alice", display_name="Alice"
    )


HAND_WRITTEN = b"""\
# mqchat profiles, kept by hand.
# Passwords live in the keyring.

default_profile = "work"  # used when no --profile is given

# The office broker.
[profiles.work]
broker = "mqtts://mq.example.com"  # port 8883
user   = "alice"
cafile = "/etc/ssl/acme.pem"
keepalive = 30

# At home: the Raspberry Pi.
[profiles.home]
broker = 'mqtt://pi.local'   # plain, on the LAN
user = "al"
"""


async def until(pilot, condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``condition`` holds (the save runs in a thread)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within 10s"
        await pilot.pause(0.02)


async def test_ctrl_s_adds_a_profile_and_leaves_the_hand_written_file_byte_for_byte(
    build_app, screen_text, settle, tmp_path
):
    config = tmp_path / "config.toml"
    config.write_bytes(HAND_WRITTEN)
    chosen = choose_profile(config, None, {})  # as the command line reads it
    defaults = LoginDefaults.from_layers(
        standard_layers(chosen.profile, {}),
        profiles=dict(chosen.config.profiles),
        profile=chosen.name,
        config_path=config,
    )
    app, calls = build_app(auto_login=False, defaults=defaults)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#broker", Input).value == "mqtts://mq.example.com"
        app.screen.query_one("#broker", Input).value = "mqtt://club.example.org:1884"
        app.screen.query_one("#user", Input).value = "bob"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SaveProfileScreen)
        await pilot.press(*"club", "enter")
        await until(pilot, lambda: "saved profile club" in screen_text(app), "saved profile")
    assert calls == []
    written = config.read_bytes()
    before, header, _ = written.partition(b"[profiles.club]")
    assert header, written
    assert before == HAND_WRITTEN + b"\n"  # the same bytes, then a blank line
    loaded = load_config(config)
    assert loaded.default_profile == "work"
    assert loaded.profiles["club"] == Profile(
        broker="mqtt://club.example.org:1884",
        user="bob",
        keepalive=30,  # what the form does not show comes along
        cafile="/etc/ssl/acme.pem",
    )


async def test_the_keyring_is_asked_and_told_off_the_event_loop(
    build_app, screen_text, settle, tmp_path, monkeypatch
):
    from tests.support.fake_keyring import fake_keyring

    keyring = fake_keyring(5)
    threads: list[str] = []
    get_password, set_password = keyring.get_password, keyring.set_password  # type: ignore[attr-defined]

    def get(service: str, account: str) -> str | None:
        threads.append(threading.current_thread().name)
        return get_password(service, account)

    def put(service: str, account: str, password: str) -> None:
        threads.append(threading.current_thread().name)
        set_password(service, account, password)

    keyring.get_password, keyring.set_password = get, put  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", keyring)
    config = tmp_path / "config.toml"
    app, calls = build_app(auto_login=False, defaults=defaults_with(config))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#broker", Input).value = "mqtt://kr.example"
        app.screen.query_one("#password", Input).value = "kept-pw"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*["backspace"] * 8, *"kr", "enter")
        await until(
            pilot, lambda: "the password is in the system keyring" in screen_text(app), "save"
        )
        app.screen.query_one("#password", Input).value = ""
        await pilot.press("enter")
        await until(pilot, lambda: bool(calls), "login")
    assert keyring.store == {("mqchat", "alice@kr.example:1883"): "kept-pw"}  # type: ignore[attr-defined]
    assert calls[0].password == "kept-pw"  # found in the keyring for this login and broker
    assert len(threads) == 2 and threading.main_thread().name not in threads
    assert "kept-pw" not in config.read_text()
