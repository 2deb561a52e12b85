"""Searching a conversation: / (in an empty box) or ctrl+f opens the search line,
enter jumps to the newest hit in its context, n/N go to older/newer hits, escape
closes the search and then leaves."""

from __future__ import annotations

from datetime import timedelta

from mqchat.core.model import DeliveryState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.message_log import MessageLog
from mqchat.widgets.search_bar import SearchBar
from tests.support.fake_backend import at


def seed(backend, count: int = 600) -> None:
    backend.seed_contact("erin", "Erin")
    start = at("00:00", days_ago=2)
    for i in range(count):
        body = f"message {i:03d}"
        if i in (40, 120):
            body += " about the quokka"
        backend.seed_message("erin", body, start + timedelta(minutes=i), state=DeliveryState.READ)


def on_screen(app) -> list[str]:
    return [m.body for m in app.screen.query_one(MessageLog).on_screen()]


async def test_slash_finds_a_message_far_up_and_n_goes_on(build_app, backend, settle):
    seed(backend)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(MessageLog)
        assert "message 599" in on_screen(app)
        assert not any(m.body.startswith("message 120") for m in log.window.messages)
        await pilot.press("slash")
        await settle(pilot)
        bar = app.screen.query_one(SearchBar)
        assert bar.is_open and bar.has_focus
        await pilot.press(*"QUOKKA", "enter")
        await settle(pilot)
        assert "message 120 about the quokka" in on_screen(app)  # the newest hit
        assert "message 119" in on_screen(app) and "message 121" in on_screen(app)
        assert log.hit is not None and bar.border_subtitle.startswith("1 of 2 ·")
        await pilot.press("n")
        await settle(pilot)
        assert "message 040 about the quokka" in on_screen(app)
        assert bar.border_subtitle.startswith("2 of 2 ·")
        await pilot.press("n")  # past the oldest: it stays, and says so
        await settle(pilot)
        assert "message 040 about the quokka" in on_screen(app)
        await pilot.press("N")
        await settle(pilot)
        assert "message 120 about the quokka" in on_screen(app)
        assert backend.searches == [("QUOKKA", "erin")]

        await pilot.press("escape")  # closes the search, back to the message box
        await settle(pilot)
        assert not bar.is_open and log.hit is None
        assert app.screen.query_one("#compose", Composer).has_focus
        await pilot.press("escape")  # then leaves
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)


async def test_a_slash_in_a_draft_is_typed_and_ctrl_f_still_searches(build_app, backend, settle):
    seed(backend, 50)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"a/b")
        composer = app.screen.query_one("#compose", Composer)
        assert composer.text == "a/b"
        assert not app.screen.query_one(SearchBar).is_open
        await pilot.press("ctrl+f", *"nothing-like-this", "enter")
        await settle(pilot)
        bar = app.screen.query_one(SearchBar)
        assert bar.border_subtitle.startswith("no messages found")
        assert composer.text == "a/b"  # the draft is untouched
        assert isinstance(app.screen, ConversationScreen)


def test_snapshot_search_hit(snap_compare, build_app, backend):
    seed(backend, 300)
    app, _ = build_app(open_peer="erin")

    async def search(pilot) -> None:
        for _ in range(5):
            await pilot.pause()
        await pilot.press("slash", *"quokka", "enter")
        for _ in range(5):
            await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=search)


async def test_ctrl_f_on_the_friends_list_searches_everything_and_opens_at_the_hit(
    build_app, backend, screen_text, settle
):
    seed(backend)
    backend.seed_message("bob", "a quokka in bob's chat too", at("09:00", days_ago=3))
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        await pilot.press("ctrl+f", *"quokka", "enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "3 found" in shown
        rows = [line for line in shown.splitlines() if " · " in line and "quokka" in line]
        assert "erin" in rows[0] and "message 120 about the quokka" in rows[0]  # newest first
        assert "bob" in rows[-1] and "a quokka in bob's chat too" in rows[-1]
        await pilot.press("down", "enter")  # the second: erin's message 040
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.peer == "erin"
        assert "message 040 about the quokka" in on_screen(app)
        log = app.screen.query_one(MessageLog)
        assert log.hit == app.screen.at.id
