"""A conversation: history, sending, incoming messages, delivery marks, older pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mqchat.core.model import DeliveryState, PresenceState
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import NOW, at


def rows(app) -> list[str]:
    return app.screen.query_one(MessageLog).plain_rows()


def held(app, body: str):
    """The message with ``body`` as the log holds it."""
    [message] = [m for m in app.screen.query_one(MessageLog).window.messages if m.body == body]
    return message


def plain(app, body: str) -> str:
    log = app.screen.query_one(MessageLog)
    return log.window.plain(held(app, body))


def bodies(app) -> list[str]:
    return [m.body for m in app.screen.query_one(MessageLog).window.messages]


def on_screen(app) -> list[str]:
    return [m.body for m in app.screen.query_one(MessageLog).on_screen()]


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
        message = held(app, "ping")
        backend.change_state(message.id, state)
        await settle(pilot)
        assert plain(app, "ping").endswith(f"ping {mark}")
        log = app.screen.query_one(MessageLog)
        assert log.state_of(message.id) is (
            DeliveryState.SENT if state is DeliveryState.FAILED else state
        )


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


def seed_read(backend, peer: str, count: int, minutes: int = 1) -> None:
    """``count`` one-line messages from ``peer``, already read, a minute apart."""
    for i in range(count):
        backend.seed_message(
            peer,
            f"message {i:03d}",
            NOW.replace(hour=0) + timedelta(minutes=i * minutes),
            state=DeliveryState.READ,
        )


async def test_older_pages_load_at_the_top(build_app, backend, screen_text, settle, monkeypatch):
    monkeypatch.setattr(MessageLog, "page_size", 20)
    seed_read(backend, "erin", 60)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # the newest page, and the one before it fetched ahead of the screen
        assert bodies(app)[-1] == "message 059"
        assert len(bodies(app)) >= 40
        seen: list[str] = []
        for _ in range(10):
            seen = on_screen(app) + seen
            await pilot.press("pageup")
            await settle(pilot, 2)
        assert bodies(app) == [f"message {i:03d}" for i in range(60)]
        assert sorted(set(seen)) == bodies(app)
        assert app.screen.query_one(MessageLog).window.at_oldest
        assert "the beginning of your conversation with erin" in screen_text(app)


async def test_reading_is_not_interrupted_when_an_older_page_loads(
    build_app, backend, settle, monkeypatch
):
    monkeypatch.setattr(MessageLog, "page_size", 30)
    seed_read(backend, "erin", 300)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(MessageLog)
        log.scroll_to(y=0, animate=False, immediate=True)
        top = on_screen(app)[0]
        await settle(pilot)
        # the page before it came, above: the message that was on top still is
        assert bodies(app)[0] < top
        assert log.scroll_y > 0
        assert on_screen(app)[0] == top


@pytest.mark.parametrize("prefetch", [2, 0], ids=["fetched-ahead", "fetched-on-the-key"])
async def test_each_pageup_moves_exactly_one_page_over_page_boundaries(
    build_app, backend, settle, monkeypatch, prefetch
):
    # With prefetch 0 nothing is fetched ahead: each page boundary is crossed by the
    # key press itself, which waits for the older page before it moves.
    monkeypatch.setattr(MessageLog, "prefetch", prefetch)
    monkeypatch.setattr(MessageLog, "page_size", 25)
    monkeypatch.setattr(MessageLog, "max_messages", 150)
    seed_read(backend, "erin", 400)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(MessageLog)
        page = log.scrollable_content_region.height
        assert on_screen(app)[-1] == "message 399"
        firsts = [on_screen(app)[0]]
        loaded = {bodies(app)[0]}
        for _ in range(12):
            await pilot.press("pageup")
            await settle(pilot, 2)
            firsts.append(on_screen(app)[0])
            loaded.add(bodies(app)[0])
        numbers = [int(body.split()[1]) for body in firsts]
        assert numbers == [numbers[0] - page * i for i in range(13)]
        assert len(loaded) > 5  # older pages came on the way
        assert len(bodies(app)) <= 150  # and newer ones went
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot, 2)
            firsts.append(on_screen(app)[0])
        numbers = [int(body.split()[1]) for body in firsts[12:]]
        assert numbers == [numbers[0] + page * i for i in range(13)]
        assert on_screen(app)[-1] == "message 399"


async def test_home_and_end_jump_to_the_oldest_and_newest(
    build_app, backend, screen_text, settle, monkeypatch
):
    monkeypatch.setattr(MessageLog, "page_size", 25)
    monkeypatch.setattr(MessageLog, "max_messages", 150)
    seed_read(backend, "erin", 400)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("home")
        await settle(pilot)
        assert on_screen(app)[0] == "message 000"
        assert "the beginning of your conversation with erin" in screen_text(app)
        assert len(bodies(app)) <= 150
        await pilot.press("end")
        await settle(pilot)
        assert on_screen(app)[-1] == "message 399"
        # with a draft, home and end move in the draft; ctrl+home/ctrl+end still jump
        await pilot.press(*"abc", "home", "x")
        await settle(pilot)
        assert app.screen.query_one("#compose", Composer).text == "xabc"
        assert on_screen(app)[-1] == "message 399"
        await pilot.press("ctrl+home")
        await settle(pilot)
        assert on_screen(app)[0] == "message 000"
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert on_screen(app)[-1] == "message 399"


async def test_a_flood_keeps_the_window_bounded_and_older_rows_come_back(
    build_app, backend, settle, monkeypatch
):
    monkeypatch.setattr(MessageLog, "page_size", 20)
    monkeypatch.setattr(MessageLog, "max_messages", 150)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for i in range(400):
            backend.receive("bob", f"flood {i:03d}", NOW + timedelta(seconds=i))
        await settle(pilot, 3)
        assert len(bodies(app)) <= 150
        assert on_screen(app)[-1] == "flood 399"  # the newest is on screen
        assert bodies(app) == sorted(bodies(app))
        # all 400 were marked read, in a few batches rather than one call per message
        assert backend.unread["bob"] == 0
        assert 1 <= backend.marked_read.count("bob") < 50
        # scrolling back up brings the forgotten rows back from the history
        seen: list[str] = on_screen(app)
        for _ in range(40):
            await pilot.press("pageup")
            await settle(pilot, 2)
            seen = on_screen(app) + seen
            assert len(bodies(app)) <= 150
        assert list(dict.fromkeys(seen)) == [
            "hi bob, still on for tonight?",
            "are you coming?",
            "yes, on my way",
            "see you at 5",
            *(f"flood {i:03d}" for i in range(400)),
        ]


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
        message = held(app, "on the bus")
        backend.change_state(message.id, DeliveryState.SENT)
        await settle(pilot)
        assert rows(app)[-1] == "14:05 you on the bus ✓"
        backend.change_state(message.id, DeliveryState.READ)
        await settle(pilot)
        assert rows(app)[-1] == "14:05 you on the bus ✓✓"
        assert app.screen.query_one(MessageLog).state_of(message.id) is DeliveryState.READ


async def test_a_pending_message_can_fail(build_app, backend, settle):
    backend.ack_sends = False
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"lost", "enter")
        await settle(pilot)
        backend.change_state(held(app, "lost").id, DeliveryState.FAILED)
        await settle(pilot)
        assert plain(app, "lost").endswith("lost ✗")


async def test_a_huge_body_is_capped_on_screen(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "top\n" + "\n" * 30_000 + "bottom")
        backend.receive("bob", "x" * 50_000)
        await settle(pilot)
        window = app.screen.query_one(MessageLog).window
        tall, wide = window.messages[-2:]
        assert window.body(tall).plain.count("\n") == 40
        assert window.body(tall).plain.endswith("… 29,968 more characters not shown")
        assert window.body(wide).plain == "x" * 4000 + "\n… 46,000 more characters not shown"
        assert window.height_of(tall.id) == 41 and window.height_of(wide.id) < 60
        assert backend.messages["bob"][-2].body.endswith("bottom")  # the store keeps it all
        assert "… 46,000 more characters not shown" in screen_text(app)
