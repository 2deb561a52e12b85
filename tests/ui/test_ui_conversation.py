"""A conversation: history, sending, incoming messages, delivery marks, older pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mqchat.core.model import DeliveryState, PresenceState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.message_log import MessageLog, MessageRow
from tests.support.fake_backend import NOW, at


def rows(app) -> list[str]:
    return [row.plain for row in app.screen.query(MessageRow)]


async def test_opens_with_history_header_and_focused_input(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert rows(app) == [
            "13:50 you hi bob, still on for tonight? ✓✓",
            "13:58 bob are you coming? ",
            "14:01 you yes, on my way ✓✓",
            "14:02 bob see you at 5 ",
        ]
        assert "Bob (bob)  ● online" in screen_text(app)
        assert app.focused is app.screen.query_one("#compose", Composer)
        assert backend.marked_read == ["bob"]
        assert backend.unread["bob"] == 0


async def test_typed_message_is_sent_and_shown_with_a_tick(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"on the bus", "enter")
        await settle(pilot)
        assert backend.sent == [("bob", "on the bus")]
        assert rows(app)[-1] == "14:05 you on the bus ✓"
        assert app.screen.query_one("#compose", Composer).text == ""


async def test_send_error_is_notified_and_the_text_kept(build_app, backend, settle):
    backend.send_error = "the message is longer than 65536 bytes"
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        assert app.screen.query_one("#compose", Composer).text == "hello"
        assert [n.message for n in app._notifications] == ["the message is longer than 65536 bytes"]
        assert len(rows(app)) == 4


async def test_empty_input_sends_nothing(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "enter")
        await settle(pilot)
        assert backend.sent == []


async def test_incoming_message_appears_and_is_marked_read(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "where are you?")
        backend.receive("carol", "not for this screen")
        await settle(pilot)
        assert rows(app)[-1] == "14:05 bob where are you? "
        assert len(rows(app)) == 5
        assert backend.marked_read == ["bob", "bob"]
        assert backend.unread["bob"] == 0 and backend.unread["carol"] == 1


async def test_events_reach_the_friends_screen_underneath(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        friends = app.screen_stack[-2]
        assert isinstance(friends, FriendsScreen)
        backend.receive("carol", "psst")
        await settle(pilot)
        carol = next(s for s in friends.summaries if s.contact.user == "carol")
        assert carol.unread == 1 and carol.last_message.body == "psst"


@pytest.mark.parametrize(
    ("state", "mark"),
    [
        (DeliveryState.DELIVERED, "✓✓"),
        (DeliveryState.READ, "✓✓"),
        (DeliveryState.FAILED, "✓"),  # too late: a sent message cannot fail any more
    ],
)
async def test_delivery_state_updates_the_mark(build_app, backend, settle, state, mark):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"ping", "enter")
        await settle(pilot)
        [row] = [r for r in app.screen.query(MessageRow) if r.message.body == "ping"]
        backend.change_state(row.message.id, state)
        await settle(pilot)
        assert row.plain.endswith(f"ping {mark}")
        assert row.state is (DeliveryState.SENT if state is DeliveryState.FAILED else state)


async def test_hostile_body_is_literal_text(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "[bold red]x[/] \x1b[2J\x1b]8;;http://evil\x07y\x9b31m")
        await settle(pilot)
        text = screen_text(app)
        assert "14:05 bob [bold red]x[/] [2J]8;;http://evily31m" in text
        assert not any(ch in text for ch in "\x1b\x07\x9b")


async def test_presence_in_the_header_follows_events(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.set_presence("bob", PresenceState.OFFLINE, at("14:04"), name="Bob")
        await settle(pilot)
        assert "Bob (bob)  ○ last seen 14:04" in screen_text(app)
        backend.set_presence("bob", PresenceState.OFFLINE, at("09:00", days_ago=3), name="Bob")
        await settle(pilot)
        assert "Bob (bob)  ○ last seen 19 Nov" in screen_text(app)


async def test_older_pages_load_at_the_top(build_app, backend, screen_text, settle, monkeypatch):
    monkeypatch.setattr(ConversationScreen, "page_size", 20)
    for i in range(60):
        backend.seed_message(
            "erin", f"message {i:02d}", NOW.replace(hour=10) + timedelta(minutes=i)
        )
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # one page of 20 does not fill the screen: a second one is loaded at once
        assert len(rows(app)) == 40
        assert app.screen.query_one(MessageLog).max_scroll_y > 0
        for _ in range(40):
            await pilot.press("pageup")
            await settle(pilot, 2)
            if app.screen.exhausted and "the beginning of your" in screen_text(app):
                break
        bodies = [row.message.body for row in app.screen.query(MessageRow)]
        assert bodies == [f"message {i:02d}" for i in range(60)]
        assert app.screen.exhausted
        assert "the beginning of your conversation with erin" in screen_text(app)


async def test_scrolling_to_the_top_loads_an_older_page(build_app, backend, settle, monkeypatch):
    monkeypatch.setattr(ConversationScreen, "page_size", 30)
    for i in range(75):
        backend.seed_message(
            "erin", f"message {i:02d}", NOW.replace(hour=10) + timedelta(minutes=i)
        )
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert len(rows(app)) == 30
        log = app.screen.query_one(MessageLog)
        log.scroll_home(animate=False)
        await settle(pilot)
        assert len(rows(app)) == 60
        # the message that was on top is still on top: reading is not interrupted
        was_first = next(r for r in app.screen.query(MessageRow) if r.message.body == "message 45")
        assert log.scroll_y == 30
        assert was_first.region.y == log.content_region.y


async def test_escape_goes_back_to_friends(build_app, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)


async def test_a_sent_message_shows_pending_until_the_backend_says_more(
    build_app, backend, screen_text, settle
):
    backend.ack_sends = False
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"on the bus", "enter")
        await settle(pilot)
        # shown at once, with the input free again, though nothing is acknowledged
        assert rows(app)[-1] == "14:05 you on the bus ⏳"
        assert app.screen.query_one("#compose", Composer).text == ""
        [row] = [r for r in app.screen.query(MessageRow) if r.message.body == "on the bus"]
        backend.change_state(row.message.id, DeliveryState.SENT)
        await settle(pilot)
        assert rows(app)[-1] == "14:05 you on the bus ✓"
        backend.change_state(row.message.id, DeliveryState.READ)
        await settle(pilot)
        assert rows(app)[-1] == "14:05 you on the bus ✓✓"
        assert row.state is DeliveryState.READ


async def test_a_pending_message_can_fail(build_app, backend, settle):
    backend.ack_sends = False
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"lost", "enter")
        await settle(pilot)
        [row] = [r for r in app.screen.query(MessageRow) if r.message.body == "lost"]
        backend.change_state(row.message.id, DeliveryState.FAILED)
        await settle(pilot)
        assert row.plain.endswith("lost ✗")


async def test_a_huge_body_is_capped_on_screen(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "top\n" + "\n" * 30_000 + "bottom")
        backend.receive("bob", "x" * 50_000)
        await settle(pilot)
        tall, wide = list(app.screen.query(MessageRow))[-2:]
        assert tall.body.plain.count("\n") == 40
        assert tall.body.plain.endswith("… 29,968 more characters not shown")
        assert wide.body.plain == "x" * 4000 + "\n… 46,000 more characters not shown"
        assert tall.size.height == 41 and wide.size.height < 60
        assert backend.messages["bob"][-2].body.endswith("bottom")  # the store keeps it all
        assert "… 46,000 more characters not shown" in screen_text(app)


async def test_a_flood_keeps_the_screen_bounded_and_older_rows_come_back(
    build_app, backend, settle, monkeypatch
):
    from mqchat.screens import conversation

    monkeypatch.setattr(conversation, "MAX_ROWS", 60)
    monkeypatch.setattr(conversation, "KEEP_ROWS", 40)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for i in range(150):
            backend.receive("bob", f"flood {i:03d}", NOW + timedelta(seconds=i))
        await settle(pilot, 3)
        bodies = [row.message.body for row in app.screen.query(MessageRow)]
        assert len(bodies) <= 60
        assert bodies[-1] == "flood 149"  # the newest is on screen
        assert bodies == sorted(bodies)
        # all 150 were marked read, in a few batches rather than one call per message
        assert backend.unread["bob"] == 0
        assert 1 <= backend.marked_read.count("bob") < 50
        # scrolling back up brings the forgotten rows back from the history
        for _ in range(60):
            await pilot.press("pageup")
            await settle(pilot, 2)
            bodies = [row.message.body for row in app.screen.query(MessageRow)]
            if app.screen.exhausted and bodies[0] == "hi bob, still on for tonight?":
                break
        assert bodies[:4] == [
            "hi bob, still on for tonight?",
            "are you coming?",
            "yes, on my way",
            "see you at 5",
        ]
        assert bodies[4:] == [f"flood {i:03d}" for i in range(150)]
