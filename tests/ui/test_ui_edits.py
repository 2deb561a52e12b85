"""Editing and deleting one's own messages in a conversation: ctrl+up picks ours,
e loads it into the box in editing mode, enter saves, esc cancels; d asks, then
deletes. Edited and deleted messages are drawn as such, for both sides."""

from __future__ import annotations

from textual.pilot import Pilot

from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.modals import ConfirmScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import NOW, at
from tests.ui.test_ui_snapshots import SIZE, keys

NEWEST = "yes, on my way"
OLDER = "hi bob, still on for tonight?"


def rows(app) -> list[str]:
    return app.screen.query_one(MessageLog).plain_rows()


def picked(app) -> str | None:
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return None if screen.picked is None else screen.picked.body


def composer(app) -> Composer:
    return app.screen.query_one("#compose", Composer)


def footer(text: str) -> str:
    return text.splitlines()[-1]


async def type_text(pilot: Pilot, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


async def test_pick_edit_and_save(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "draft")
        await pilot.press("ctrl+up")
        await settle(pilot)
        assert picked(app) == NEWEST
        assert app.focused is None  # up, down, e and d are the screen's now
        assert "e Edit" in footer(screen_text(app)) and "d Delete" in footer(screen_text(app))
        assert "↑↓ your messages" in screen_text(app)
        await pilot.press("up")
        assert picked(app) == OLDER
        await pilot.press("up")  # nothing older of ours: stays
        assert picked(app) == OLDER
        await pilot.press("down")
        assert picked(app) == NEWEST

        await pilot.press("e")
        await settle(pilot)
        assert composer(app).text == NEWEST
        assert app.focused is composer(app)
        assert "editing your message" in screen_text(app)
        for _ in NEWEST:
            await pilot.press("backspace")
        await type_text(pilot, "running late, 10 min")
        await pilot.press("enter")
        await settle(pilot)
        assert backend.edits == [(backend.messages["bob"][2].id, "running late, 10 min")]
        assert backend.sent == []  # an edit, not a new message
        assert "14:01 you running late, 10 min (edited) ✓✓" in rows(app)
        assert composer(app).text == "draft"  # the draft is back
        assert picked(app) is None
        assert "editing your message" not in screen_text(app)
        # the next enter sends the draft as usual
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent == [("bob", "draft")]


async def test_escape_cancels_an_edit_and_gives_the_draft_back(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "half a thought")
        await pilot.press("ctrl+up", "enter")  # enter edits too
        await settle(pilot)
        assert composer(app).text == NEWEST
        await type_text(pilot, "!!")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)  # escape did not leave
        assert composer(app).text == "half a thought"
        assert backend.edits == [] and backend.sent == []
        # picking, escape lets go without leaving either
        await pilot.press("ctrl+up", "escape")
        await settle(pilot)
        assert picked(app) is None and isinstance(app.screen, ConversationScreen)
        assert app.focused is composer(app)


async def test_delete_asks_first(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+up", "up", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert backend.deletes == []
        assert picked(app) == OLDER  # still picked, to try again
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert backend.deletes == [backend.messages["bob"][0].id]
        assert rows(app)[0] == "13:50 you message deleted "
        assert picked(app) is None
        # a deleted message is not ours to pick any more
        await pilot.press("ctrl+up", "up")
        assert picked(app) == NEWEST


async def test_nothing_of_ours_to_pick(build_app, backend, settle):
    backend.seed_contact("zed")
    backend.seed_message("zed", "hello alice", at("14:00"))
    app, _ = build_app(open_peer="zed")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+up")
        await settle(pilot)
        assert picked(app) is None
        assert [n.message for n in app._notifications] == [
            "Nothing of yours here to edit or delete."
        ]
        assert app.focused is composer(app)


async def test_the_peers_edit_and_delete_show_at_once(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        coming, five = backend.messages["bob"][1], backend.messages["bob"][3]
        backend.change(coming.id, "[red]are you coming?[/red] \x1b[2J", NOW)
        backend.change(five.id, None)
        await settle(pilot)
        assert rows(app)[1] == "13:58 bob [red]are you coming?[/red] [2J (edited) "
        assert rows(app)[3] == "14:02 bob message deleted "


def test_snapshot_edited_and_deleted(snap_compare, build_app, backend):
    coming, on_my_way = backend.messages["bob"][1], backend.messages["bob"][2]
    backend.change(coming.id, "are you coming? [b]8pm[/b]")
    backend.change(on_my_way.id, None)
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_snapshot_picked_and_editing(snap_compare, build_app, backend):
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("ctrl+up", "up", "e"))


def test_snapshot_picking(snap_compare, build_app, backend):
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("ctrl+up"))


async def test_the_friends_list_preview_follows_an_edit_and_a_delete(
    build_app, backend, screen_text, settle
):
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert '"see you at 5"' in screen_text(app)
        last = backend.messages["bob"][-1]
        backend.change(last.id, "see you at 6")
        await settle(pilot)
        assert '"see you at 6"' in screen_text(app)
        backend.change(last.id, None)
        await settle(pilot)
        assert "message deleted" in screen_text(app)
        assert "see you at" not in screen_text(app)


async def test_up_and_down_pick_nothing_unless_one_of_ours_is_picked(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f", "up", "down", "e", "d")  # typed into the search
        await settle(pilot)
        assert picked(app) is None
        assert backend.edits == [] and backend.deletes == []


async def test_up_in_an_empty_box_skips_a_deleted_message(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend.change(backend.messages["bob"][2].id, None)  # "yes, on my way"
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert composer(app).text == OLDER
