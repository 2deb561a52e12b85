"""The command palette (ctrl+p) is on; the theme comes from ``[ui] theme`` and a new
choice is saved; while the terminal is not focused a message alerts as configured."""

from __future__ import annotations

from pathlib import Path

import textual
from textual.command import CommandPalette

from mqchat.app import LoginDefaults, UiOptions, make_app
from mqchat.screens.notifications import QUIET_FOR, write_to_terminal
from tests.support.fake_backend import NOW, fake_factory


def app_with(backend, ui: UiOptions, open_peer: str | None = None):
    _, connect = fake_factory(backend)
    return make_app(
        defaults=LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
        connect=connect,
        auto_login=True,
        open_peer=open_peer,
        clock=lambda: NOW,
        cursor_blink=False,
        ui=ui,
    )


async def test_the_configured_theme_is_used_and_a_new_one_saved(backend, settle):
    saved: list[str] = []
    app = app_with(backend, UiOptions(theme="nord", save_theme=lambda t: saved.append(t)))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        assert saved == []  # starting with it is not a choice
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        app.theme = "gruvbox"  # what choosing one in the palette does
        await settle(pilot)
        assert saved == ["gruvbox"]


async def test_a_theme_that_cannot_be_saved_says_so(backend, settle):
    app = app_with(backend, UiOptions(save_theme=lambda _t: "config.toml: read-only"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.theme = "gruvbox"
        await settle(pilot)
        [note] = app._notifications
        assert note.title == "Theme not saved" and note.message == "config.toml: read-only"


async def test_an_unknown_theme_is_told_and_the_default_kept(backend, settle):
    app = app_with(backend, UiOptions(theme="no-such-theme"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        [note] = app._notifications
        assert "no theme 'no-such-theme'" in note.message


async def test_an_unfocused_terminal_is_alerted_once_per_sender_at_a_time(
    backend, settle, monkeypatch
):
    written: list[str] = []
    monkeypatch.setattr(
        "mqchat.screens.notifications.write_to_terminal",
        lambda _app, sequence: written.append(sequence),
    )
    app = app_with(backend, UiOptions(notify="osc777"), open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "focused: no alert")
        await settle(pilot)
        assert written == []
        app.app_focus = False
        backend.receive("bob", "are you there?")  # this very conversation: alerted too
        backend.receive("bob", "hello?")  # within QUIET_FOR of the first: not again
        backend.receive("carol", "me too")
        await settle(pilot)
        assert written == [
            "\x1b]777;notify;mqchat: bob;are you there?\x1b\\",
            "\x1b]777;notify;mqchat: carol;me too\x1b\\",
        ]
        assert QUIET_FOR == 5.0


async def test_alerts_are_off_by_default(backend, settle, monkeypatch):
    written: list[str] = []
    monkeypatch.setattr(
        "mqchat.screens.notifications.write_to_terminal", lambda _a, s: written.append(s)
    )
    app = app_with(backend, UiOptions(), open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.app_focus = False
        backend.receive("carol", "hi")
        await settle(pilot)
        assert written == []


async def test_textual_still_writes_to_the_terminal_through_its_driver(backend, settle):
    """write_to_terminal uses App._driver (as App.bell does): if Textual renames it,
    this fails, naming the version, before alerts go silently missing."""
    app = app_with(backend, UiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        driver = getattr(app, "_driver", None)
        assert driver is not None and callable(getattr(driver, "write", None)), (
            f"textual {textual.__version__} has no App._driver.write: fix write_to_terminal"
        )
        write_to_terminal(app, "")  # headless: writes nothing, raises nothing


def test_snapshot_conversation_in_the_light_theme(snap_compare, backend):
    app = app_with(backend, UiOptions(theme="textual-light"), open_peer="bob")
    assert snap_compare(app, terminal_size=(100, 30))
