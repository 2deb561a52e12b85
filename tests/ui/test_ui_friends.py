"""The friends list: presence, unread counts, previews; adding and removing."""

from __future__ import annotations

from textual.widgets import Input

from mqchat.core.model import PresenceState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.modals import AddContactScreen, ConfirmScreen
from mqchat.screens.presence import PresenceScreen
from mqchat.widgets.contact_list import ContactList
from tests.support.fake_backend import at


async def test_friends_show_presence_unread_and_last_message(build_app, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        lines = screen_text(app).splitlines()
        bob = next(i for i, line in enumerate(lines) if "Bob (bob)" in line)
        assert "● Bob (bob)" in lines[bob] and "online" in lines[bob]
        assert lines[bob].rstrip(" │").endswith("2 new")
        assert '"see you at 5"' in lines[bob + 1] and "14:02" in lines[bob + 1]
        carol = next(i for i, line in enumerate(lines) if "carol" in line)
        assert "○ carol" in lines[carol] and "last seen 13:40" in lines[carol]
        assert 'you: "thanks!"' in lines[carol + 1]
        assert "◌ dave" in screen_text(app) and "never seen" in screen_text(app)
        # most recent activity first
        assert bob < carol


async def test_presence_change_updates_the_list(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.set_presence("dave", PresenceState.AWAY, at("14:03"))
        await settle(pilot)
        assert "◐ dave" in screen_text(app) and "away" in screen_text(app)


async def test_enter_opens_the_highlighted_conversation(build_app, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.peer == "carol"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)


async def test_add_contact_refuses_bad_names_then_adds(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AddContactScreen)
        await pilot.press(*"bad/name", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AddContactScreen)
        assert "contains '/'" in screen_text(app)
        app.screen.query_one(Input).value = "frank"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert "frank" in backend.contact_list
        assert app.screen.query_one(ContactList).highlighted_user == "frank"
        assert "frank" in screen_text(app)


async def test_add_contact_can_be_cancelled(build_app, backend, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a", "escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert set(backend.contact_list) == {"bob", "carol", "dave"}


async def test_remove_contact_asks_first(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove Bob (bob) from your friends?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "bob" in backend.contact_list
        await pilot.press("d", "y")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert "bob" not in backend.contact_list
        assert "Bob (bob)" not in screen_text(app)


async def test_no_friends_yet_says_what_to_do(build_app, backend, screen_text, settle):
    backend.contact_list.clear()
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "No friends yet. Press a to add someone" in screen_text(app)


async def test_hostile_display_name_is_shown_literally(build_app, backend, screen_text, settle):
    backend.seed_contact("mallory", "[b]Mal\x1b[2Jlo[/]\x07")
    backend.seed_message("mallory", "[link=http://evil]click[/link]\x1b]0;pwned\x07", at("14:04"))
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[b]Mal[2Jlo[/] (mallory)" in text
        assert '"[link=http://evil]click[/link]]0;pwned"' in text
        assert "\x1b" not in text and "\x07" not in text


async def test_p_opens_presence(build_app, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PresenceScreen)
