"""While we are not connected ourselves: nobody's presence is known, so the screens say
``unknown`` rather than repeat what we last heard (or the broker's goodbye Wills);
ctrl+r tries to reconnect at once."""

from __future__ import annotations

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState


def lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


async def test_presence_is_unknown_while_we_are_disconnected(
    build_app, backend, screen_text, settle
):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        [bob] = lines_with(screen_text(app), "Bob (bob)")
        assert "online" in bob
        [carol] = lines_with(screen_text(app), "carol")
        assert "last seen 13:40" in carol

        backend.emit(ConnectionChanged(ConnectionState.RETRYING, "connection refused", 4.0))
        await settle(pilot)
        [bob] = lines_with(screen_text(app), "Bob (bob)")
        assert "◌ Bob (bob)" in bob and "unknown" in bob and "online" not in bob
        [carol] = lines_with(screen_text(app), "carol")
        assert "unknown" in carol and "last seen" not in carol

        await app.open_conversation("carol")
        await settle(pilot)
        header = screen_text(app).splitlines()[1]
        assert header.strip() == "carol  ◌ unknown"  # not "(connection lost)"

        backend.emit(ConnectionChanged(ConnectionState.CONNECTED))
        await settle(pilot)
        header = screen_text(app).splitlines()[1]
        assert "last seen 13:40 (connection lost)" in header
        await pilot.press("escape")
        await settle(pilot)
        [bob] = lines_with(screen_text(app), "Bob (bob)")
        assert "online" in bob


async def test_the_presence_screen_says_unknown_too(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        [carol] = lines_with(screen_text(app), "carol")
        assert "connection lost" in carol
        backend.emit(ConnectionChanged(ConnectionState.RETRYING, "connection refused", 4.0))
        await settle(pilot)
        [carol] = lines_with(screen_text(app), "carol")
        assert "unknown" in carol
        assert "connection lost" not in carol and "last seen" not in carol


def footer(text: str) -> str:
    return text.splitlines()[-1]


async def test_ctrl_r_reconnects_now_while_waiting(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Reconnect" not in footer(screen_text(app))
        await pilot.press("ctrl+r")
        assert backend.reconnect_calls == 0  # connected: nothing to do

        backend.emit(ConnectionChanged(ConnectionState.RETRYING, "connection refused", 4.0))
        await settle(pilot)
        assert "^r Reconnect now" in footer(screen_text(app))
        await pilot.press("ctrl+r")
        assert backend.reconnect_calls == 1

        backend.emit(ConnectionChanged(ConnectionState.CONNECTED))
        await settle(pilot)
        assert "Reconnect" not in footer(screen_text(app))
