"""Friend requests: how they look in the friends list, the conversation and the roster,
and accepting or ignoring them."""

from __future__ import annotations

from pathlib import Path

from mqchat.app import LoginDefaults, make_app
from mqchat.core.model import ContactStatus, PresenceState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.messages import ContactsChangedMsg
from mqchat.screens.modals import ConfirmScreen
from mqchat.screens.presence import PresenceScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.contact_list import ContactList
from tests.support.fake_backend import NOW, at, fake_factory


def line_with(text: str, needle: str) -> tuple[int, list[str]]:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if needle in line), lines


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def footer(text: str) -> str:
    return text.splitlines()[-1]


async def test_requests_come_first_and_pending_ones_say_so(build_app, backend, screen_text, settle):
    backend.seed_request("zoe", body="hi, we met at the meetup", ts=at("12:00"))
    backend.seed_request("yann")
    backend.seed_contact("dave", status=ContactStatus.REQUESTED)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        zoe, lines = line_with(text, "zoe")
        yann, _ = line_with(text, "yann")
        bob, _ = line_with(text, "Bob (bob)")
        assert zoe < bob and yann < bob  # requests first, though older than bob's chat
        assert "✉ zoe" in lines[zoe] and "wants to be your friend" in lines[zoe]
        assert lines[zoe].rstrip(" │").endswith("1 new")
        assert '"hi, we met at the meetup"' in lines[zoe + 1] and "12:00" in lines[zoe + 1]
        assert "y accepts · d ignores" in lines[yann + 1]
        dave, _ = line_with(text, "dave")
        assert "◌ dave" in lines[dave] and "request pending" in lines[dave]
        assert "never seen" not in lines[dave]
        assert "Friends · 2 requests" in text
        assert "y Accept" in footer(text)


async def test_y_accepts_the_highlighted_request(build_app, backend, screen_text, settle):
    backend.seed_request("zoe", "Zoe", body="hello?")
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(ContactList).highlighted_user == "zoe"
        await pilot.press("y")
        await settle(pilot)
        assert backend.contact_list["zoe"].status is ContactStatus.FRIEND
        assert notes(app) == ["zoe is now your friend."]
        zoe, lines = line_with(screen_text(app), "Zoe (zoe)")
        assert "never seen" in lines[zoe] and "✉" not in lines[zoe]
        assert "request" not in screen_text(app).splitlines()[1]  # the border title
        assert app.screen.query_one(ContactList).highlighted_user == "zoe"


async def test_y_on_a_friend_or_a_pending_request_has_nothing_to_accept(build_app, backend, settle):
    backend.seed_contact("dave", status=ContactStatus.REQUESTED)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("y")  # bob, a friend
        await settle(pilot)
        await pilot.press("down", "down", "y")  # bob, carol, dave
        await settle(pilot)
        assert notes(app) == [
            "Nothing to accept: Bob (bob) is already your friend.",
            "Nothing to accept: you asked dave; waiting for them.",
        ]
        assert backend.added == []


async def test_d_on_a_request_asks_to_ignore_it(build_app, backend, screen_text, settle):
    backend.seed_request("zoe", body="buy my stuff")
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Ignore zoe's request?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "zoe" in backend.contact_list and backend.removed == []
        await pilot.press("d", "y")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert backend.removed == ["zoe"]
        assert "zoe" not in screen_text(app)
        assert notes(app) == ["Ignored zoe's request."]
        assert backend.messages["zoe"]  # the history stays


async def test_a_new_request_is_toasted_once_and_listed(build_app, backend, screen_text, settle):
    seen: list[ContactsChangedMsg] = []

    def hook(message: object) -> None:
        if isinstance(message, ContactsChangedMsg):
            seen.append(message)

    app, _ = build_app()
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await settle(pilot)
        backend.request("zoe", "[b]Zoe\x1b[2J", body="hi!")
        await settle(pilot)
        assert seen and {m.event.user for m in seen} == {"zoe"}
        assert seen[0].event.contact is not None and seen[0].event.contact.is_request
        [note] = app._notifications
        assert note.message == "zoe “[b]Zoe[2J” wants to be your friend — y accepts"
        assert note.title == "Friend request"
        assert not note.markup
        zoe, lines = line_with(screen_text(app), "zoe “[b]Zoe[2J”")
        assert "✉" in lines[zoe] and "wants to be your friend" in lines[zoe]
        assert '"hi!"' in lines[zoe + 1]
        # the same request reported again (the stranger wrote again) is not news
        backend.request("zoe", "[b]Zoe\x1b[2J", body="hello??")
        await settle(pilot)
        assert len(app._notifications) == 1


async def test_a_request_toast_elsewhere_says_where_to_accept(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.request("zoe")
        await settle(pilot)
        assert notes(app) == ["zoe wants to be your friend — y on your friends list accepts"]


async def test_our_request_accepted_is_toasted(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a", *"frank", "enter")
        await settle(pilot)
        assert notes(app) == ["Friend request sent to frank."]
        frank, lines = line_with(screen_text(app), "frank")
        assert "request pending" in lines[frank]
        backend.accepted_by("frank")
        await settle(pilot)
        assert notes(app)[-1] == "frank accepted your friend request."
        frank, lines = line_with(screen_text(app), "frank")
        assert "request pending" not in lines[frank] and "never seen" in lines[frank]


async def test_a_stranger_named_like_a_friend_shows_their_own_user_name(
    build_app, backend, screen_text, settle
):
    # bob is alice's friend, "Bob (bob)" in her list; mallory asks under his label,
    # padded so that the label alone would fill the name column.
    fake_bob = "Bob\u200b (bob)" + " " * 40 + "\u200b."
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.request("mallory", fake_bob, body="it's me, bob")
        await settle(pilot)
        assert notes(app) == ["mallory “Bob (bob) .” wants to be your friend — y accepts"]
        lines = screen_text(app).splitlines()
        request = next(i for i, line in enumerate(lines) if "✉" in line)
        assert "✉ mallory “Bob (bob) .”" in lines[request]
        assert "wants to be your friend" in lines[request]
        assert sum("Bob (bob)" in line for line in lines) == 2  # bob, and inside the quotes
        await pilot.press("up")  # requests come first: mallory is above bob
        assert app.screen.query_one(ContactList).highlighted_user == "mallory"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.peer == "mallory"
        header, banner = screen_text(app).splitlines()[1:3]
        assert header.lstrip("│ ").startswith("mallory “Bob (bob) .”")
        assert banner.lstrip("│ ").startswith("mallory “Bob (bob) .” is not in your friends yet")


async def test_conversation_with_a_request_has_a_banner_and_ctrl_y(
    build_app, backend, screen_text, settle
):
    backend.seed_request("zoe", body="can we talk?")
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.peer == "zoe"
        text = screen_text(app)
        assert "zoe is not in your friends yet — ctrl+y accepts, escape goes back" in text
        assert "^y Accept" in footer(text)
        assert "14:05 zoe can we talk?" in text  # messages show as usual
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert backend.contact_list["zoe"].status is ContactStatus.FRIEND
        text = screen_text(app)
        assert "not in your friends yet" not in text
        assert "Accept" not in footer(text)
        assert notes(app) == ["zoe is now your friend."]
        assert app.screen.query_one("#compose", Composer).text == ""


async def test_ctrl_y_does_nothing_with_a_friend(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Accept" not in footer(screen_text(app))
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert backend.added == [] and notes(app) == []


async def test_a_request_arriving_in_an_open_conversation_shows_the_banner(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="zoe")  # a stranger we write to first: we ask them
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert backend.contact_list["zoe"].status is ContactStatus.REQUESTED
        assert "zoe  ◌ never seen · request pending" in screen_text(app)
        backend.accepted_by("zoe")
        await settle(pilot)
        assert "request pending" not in screen_text(app)
        assert notes(app) == ["zoe accepted your friend request."]
        # they drop us, then write again: now they are a request
        backend.contact_list.pop("zoe")
        backend.request("zoe", body="remember me?")
        await settle(pilot)
        text = screen_text(app)
        assert "zoe is not in your friends yet" in text
        assert "^y Accept" in footer(text)
        # no toast for the request: the banner over this conversation says it
        assert notes(app) == ["zoe accepted your friend request."]


async def test_opening_a_requester_does_not_accept_them(build_app, backend, settle):
    backend.seed_request("zoe")
    app, _ = build_app(open_peer="zoe")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert backend.added == []
        assert backend.contact_list["zoe"].is_request


async def test_keymap_moves_the_banner_hint_too(backend, settle, screen_text):
    backend.seed_request("zoe")
    _, connect = fake_factory(backend)
    app = make_app(
        defaults=LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
        connect=connect,
        auto_login=True,
        open_peer="zoe",
        clock=lambda: NOW,
        cursor_blink=False,
        keymap={"conversation.accept": "ctrl+o"},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "ctrl+o accepts" in screen_text(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert backend.contact_list["zoe"].status is ContactStatus.FRIEND


async def test_presence_shows_where_people_stand(build_app, backend, screen_text, settle):
    backend.seed_request("erin")
    backend.seed_presence("frank", PresenceState.ONLINE, at("10:00"))
    backend.seed_contact("frank", status=ContactStatus.REQUESTED)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PresenceScreen)
        text = screen_text(app)
        _, lines = line_with(text, "● erin")
        assert "(wants to be your friend)" in lines[line_with(text, "● erin")[0]]
        assert "(request sent)" in lines[line_with(text, "● frank")[0]]
        await pilot.press("down", "down", "down", "a")  # alice, bob, frank, erin
        await settle(pilot)
        assert backend.contact_list["erin"].status is ContactStatus.FRIEND
        assert notes(app) == ["erin is now your friend."]
        text = screen_text(app)
        assert "(friend)" in text.splitlines()[line_with(text, "● erin")[0]]
        backend.request("zed")
        backend.set_presence("zed", PresenceState.ONLINE, at("14:05"))
        await settle(pilot)
        text = screen_text(app)
        assert "(wants to be your friend)" in text.splitlines()[line_with(text, "● zed")[0]]


async def test_a_flood_of_requests_is_one_toast_and_x_ignores_them_all(
    build_app, backend, screen_text, settle
):
    # 1,001 requests used to be 1,001 toasts.
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for n in range(50):
            backend.request(f"s{n}", f"S{n}")
        await settle(pilot)
        assert len(app._notifications) <= 2
        assert any("friend requests (" in n.message for n in app._notifications)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert sorted(backend.removed) == sorted(f"s{n}" for n in range(50))
        assert "wants to be your friend" not in screen_text(app)
