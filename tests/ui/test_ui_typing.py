"""Typing notices: ours go out as we type, theirs show as ``typing…`` for a while."""

from __future__ import annotations

import asyncio

from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.messages import PeerTypingMsg
from mqchat.widgets.composer import Composer


def header(text: str) -> str:
    return text.splitlines()[1]


async def test_typing_shows_in_the_header_until_their_message(
    build_app, backend, screen_text, settle
):
    seen: list[PeerTypingMsg] = []
    app, _ = build_app(open_peer="bob")
    hook = lambda m: seen.append(m) if isinstance(m, PeerTypingMsg) else None  # noqa: E731
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await settle(pilot)
        backend.peer_typing("carol")  # another conversation: not here
        await settle(pilot)
        assert "typing" not in header(screen_text(app))
        backend.peer_typing("bob")
        await settle(pilot)
        assert any(m.event.peer == "bob" for m in seen)
        assert header(screen_text(app)).rstrip().endswith("Bob (bob)  ● online · typing…")
        backend.receive("bob", "here I am")
        await settle(pilot)
        assert "typing" not in header(screen_text(app))


async def test_typing_fades_when_its_timer_runs_out(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert screen.typing.fade == 6.0
        backend.peer_typing("bob")
        await settle(pilot)
        assert "bob" in screen.typing
        screen.typing.stopped("bob")  # what the fade timer calls
        await settle(pilot)
        assert "typing" not in header(screen_text(app))


async def test_the_fade_timer_really_fires(build_app, backend, screen_text, settle, monkeypatch):
    monkeypatch.setattr(ConversationScreen, "typing_fade", 0.05)
    shown, faded = asyncio.Event(), asyncio.Event()
    show_header = ConversationScreen.show_header

    def watched(self: ConversationScreen) -> None:
        show_header(self)
        if "bob" in self.typing:
            shown.set()
        elif shown.is_set():
            faded.set()

    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(ConversationScreen, "show_header", watched)
        backend.peer_typing("bob")
        await asyncio.wait_for(faded.wait(), timeout=5)
        await settle(pilot)
        assert "typing" not in header(screen_text(app))


async def test_another_notice_keeps_it_up(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        backend.peer_typing("bob")
        await settle(pilot)
        timer = screen.typing._timers["bob"]
        backend.peer_typing("bob")
        await settle(pilot)
        assert screen.typing._timers["bob"] is timer  # the same timer, restarted


async def test_typing_shows_in_the_friends_list(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        backend.peer_typing("bob")
        backend.peer_typing("erin")  # not a contact: nowhere to show it
        await settle(pilot)
        lines = screen_text(app).splitlines()
        bob = next(i for i, line in enumerate(lines) if "Bob (bob)" in line)
        assert "typing…" in lines[bob + 1] and "see you at 5" not in lines[bob + 1]
        assert "erin" not in app.screen.typing
        app.screen.typing.stopped("bob")
        await settle(pilot)
        assert '"see you at 5"' in screen_text(app).splitlines()[bob + 1]


async def test_typing_into_the_input_tells_the_peer(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # only blanks: not typing a message yet
        await settle(pilot)
        assert backend.typing_sent == []
        await pilot.press("h")
        await settle(pilot)
        assert backend.typing_sent == ["bob"]
        await pilot.press("i")
        await settle(pilot)
        assert backend.typing_sent == ["bob", "bob"]  # the backend throttles, not the UI
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#compose", Composer).text == ""
        assert backend.typing_sent == ["bob", "bob"]  # clearing the input is not typing


async def test_a_slow_or_failing_typing_notice_never_blocks_typing(build_app, backend, settle):
    release = asyncio.Event()
    calls: list[str] = []

    async def slow(peer: str) -> None:
        calls.append(peer)
        await release.wait()
        raise ConnectionError("gone")

    backend.send_typing = slow  # type: ignore[method-assign]
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"hello")
        await settle(pilot)
        assert app.screen.query_one("#compose", Composer).text == "hello"
        assert calls == ["bob"]  # one in flight at a time
        release.set()
        await settle(pilot)
        await pilot.press("!")
        await settle(pilot)
        assert calls == ["bob", "bob"]
        assert app.is_running and len(app._notifications) == 0
