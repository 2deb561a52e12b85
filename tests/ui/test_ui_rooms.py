"""Rooms in the TUI (protocol v2): a room sits in the friends list with its size,
unread count and last sender; its conversation names each message's sender, and
says how many members read your last message; what you type goes to the room."""

from __future__ import annotations

from mqchat.core.events import ChatReceived
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.room import RoomScreen
from mqchat.widgets.contact_list import ContactList
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import FakeBackend, at
from tests.ui.test_ui_elsewhere import wait_until
from tests.ui.test_ui_snapshots import SIZE, keys

ROOM = "#01a24980-0000-7aec-b0e5-393b93a91fd0"


def with_room(backend: FakeBackend) -> FakeBackend:
    backend.seed_room(ROOM[1:], "weekend [b]trip[/b]", ["alice", "bob", "carol"])
    backend.seed_message(ROOM, "who brings the tent?", at("14:01"), sender="bob")
    backend.seed_message(ROOM, "I do", at("14:02"), sender="carol")
    mine = backend.seed_message(ROOM, "great, I bring food", at("14:03"), outgoing=True)
    backend.unread[ROOM] = 1
    backend.read_counts[mine.id] = (2, 2)
    return backend


async def open_room(pilot, app, settle) -> None:
    await settle(pilot)
    assert isinstance(app.screen, FriendsScreen)
    app.screen.query_one(ContactList).focus()
    assert app.screen.query_one(ContactList).highlighted_user == ROOM  # newest first
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, RoomScreen)


async def test_a_room_in_the_friends_list(build_app, backend, screen_text, settle):
    with_room(backend)
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "# weekend [b]trip[/b]" in text  # markup stays literal
        assert "room · 3 members" in text and "1 new" in text
        assert 'you: "great, I bring food"' in text


async def test_a_room_conversation_names_senders_and_readers(
    build_app, backend, screen_text, settle
):
    with_room(backend)
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_room(pilot, app, settle)
        header = screen_text(app).splitlines()[1]
        assert "# weekend [b]trip[/b]  alice, bob, carol" in header
        assert "your last message: read by 2 of 2" in header
        rows = app.screen.query_one(MessageLog).plain_rows()
        assert any(row.startswith("14:01 bob who brings the tent?") for row in rows)
        assert any(row.startswith("14:02 carol I do") for row in rows)
        assert "Message weekend [b]trip[/b] — enter sends" in screen_text(app)

        for key in "all set":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent[-1] == (ROOM, "all set")
        header = screen_text(app).splitlines()[1]
        assert "read by" not in header  # the newest of ours: nobody read it yet


def test_snapshot_a_room_conversation(snap_compare, build_app, backend):
    with_room(backend)
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("tab", "enter"))


async def test_a_new_room_from_the_friends_list(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert "New room" in screen_text(app)
        for key in "trip":
            await pilot.press(key)
        await pilot.press("enter")  # on to the members
        for key in "bob, c/arol":
            await pilot.press({" ": "space", ",": "comma", "/": "slash"}.get(key, key))
        await pilot.press("enter")
        await settle(pilot)
        assert "✗ the user name 'c/arol' contains '/'" in screen_text(app)
        for _ in "c/arol":
            await pilot.press("backspace")
        for key in "carol":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RoomScreen)
        assert "# trip  alice, bob, carol" in screen_text(app).splitlines()[1]


async def test_leaving_a_room_asks_first(build_app, backend, screen_text, settle):
    with_room(backend)
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_room(pilot, app, settle)
        await pilot.press("ctrl+w")
        await settle(pilot)
        assert "Leave weekend [b]trip[/b]?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert backend.left_rooms == [ROOM]
        assert isinstance(app.screen, FriendsScreen)
        assert "weekend" not in screen_text(app)


async def test_a_room_message_elsewhere_shows_a_toast_and_counts(
    build_app, backend, screen_text, settle
):
    with_room(backend)
    backend.unread[ROOM] = 0
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        message = backend.seed_message(ROOM, "[b]tent[/b] is packed", at("14:04"), sender="carol")
        backend.unread[ROOM] = 1
        backend.emit(ChatReceived(message))
        await wait_until(pilot, lambda: " 1 unread " in screen_text(app).splitlines()[0])
        [toast] = app._notifications
        assert toast.title == "Message from carol in a room"
        assert toast.message == "[b]tent[/b] is packed"
