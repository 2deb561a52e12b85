"""The conversation log as a reader meets it: day separators, the line above what is
new, the note of new messages below, the mouse wheel, long and multi-line bodies,
and receipts sent only for what was on screen."""

from __future__ import annotations

from datetime import timedelta

from textual import events

from mqchat.core.model import DeliveryState
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import NOW, at


def seed_read(backend, peer: str, count: int) -> None:
    backend.seed_contact(peer)
    for i in range(count):
        backend.seed_message(
            peer,
            f"message {i:03d}",
            NOW.replace(hour=0) + timedelta(minutes=i),
            state=DeliveryState.READ,
        )


def on_screen(app) -> list[str]:
    return [m.body for m in app.screen.query_one(MessageLog).on_screen()]


def lines(screen: str) -> list[str]:
    """The screen's rows without the log's border."""
    return [row.strip("│╭╮╰╯─ ") for row in screen.splitlines()]


async def test_days_are_separated_today_yesterday_then_dates(
    build_app, backend, screen_text, settle
):
    backend.seed_contact("erin")
    read = DeliveryState.READ
    backend.seed_message("erin", "three days ago", at("09:00", days_ago=3), state=read)
    backend.seed_message("erin", "yesterday", at("22:00", days_ago=1), outgoing=True)
    backend.seed_message("erin", "today", at("08:00"), state=read)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rows = [" ".join(r.split()) for r in lines(screen_text(app)) if r]
        start = rows.index("Thu 19 Nov 2026")
        assert rows[start : start + 6] == [
            "Thu 19 Nov 2026",
            "09:00 erin three days ago",
            "Yesterday",
            "22:00 you yesterday ✓✓",
            "Today",
            "08:00 erin today",
        ]


async def test_a_line_marks_what_is_new_since_you_last_looked(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rows = lines(screen_text(app))
        where = rows.index("new since you last looked")
        assert rows[where - 1].startswith("13:50 you")
        assert rows[where + 1].startswith("13:58 bob are you coming?")


async def test_with_many_unread_the_conversation_opens_at_the_first_of_them(
    build_app, backend, screen_text, settle
):
    seed_read(backend, "erin", 100)
    for i in range(60):
        backend.receive("erin", f"unread {i:02d}", NOW + timedelta(seconds=i))
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "new since you last looked" in lines(screen_text(app))[:5]
        assert on_screen(app)[0] == "unread 00"
        # only what was on screen is read
        seen = on_screen(app)
        assert backend.read_up_to[-1] == backend.messages["erin"][100 + len(seen) - 1].id
        assert backend.unread["erin"] == 60 - len(seen)
        await pilot.press("end")
        await settle(pilot)
        assert backend.unread["erin"] == 0


async def test_scrolled_up_new_messages_wait_below_and_are_read_once_seen(
    build_app, backend, screen_text, settle
):
    seed_read(backend, "erin", 300)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        first = backend.receive("erin", "are you there?", NOW)
        second = backend.receive("erin", "hello?", NOW + timedelta(seconds=1))
        await settle(pilot)
        assert "2 new messages ↓" in screen_text(app)
        assert backend.unread["erin"] == 2 and backend.read_up_to == []
        assert backend.messages["erin"][-1].state is DeliveryState.RECEIVED
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        # where the end was before they came: they are still below (under the note)
        assert "hello?" not in on_screen(app)
        assert backend.unread["erin"] == 2
        await pilot.press("pagedown")
        await settle(pilot)
        assert "hello?" in on_screen(app)
        assert backend.read_up_to == [second.id]
        assert backend.unread["erin"] == 0
        assert first.id in [m.id for m in app.screen.query_one(MessageLog).window.messages]
        assert "new message" not in screen_text(app)


async def test_far_up_a_new_message_is_not_read_until_scrolled_to(
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
        fresh = backend.receive("erin", "a new one", NOW)
        await settle(pilot)
        log = app.screen.query_one(MessageLog)
        assert fresh.id not in [m.id for m in log.window.messages]  # not even fetched
        assert "1 new message ↓" in screen_text(app)
        assert backend.unread["erin"] == 1 and backend.read_up_to == []
        # a click on the note goes to them (the border is the log's first row)
        await pilot.click(MessageLog, offset=(50, log.scrollable_content_region.height))
        await settle(pilot)
        assert on_screen(app)[-1] == "a new one"
        assert backend.read_up_to == [fresh.id] and backend.unread["erin"] == 0


async def test_the_mouse_wheel_scrolls_and_fetches_older_pages(
    build_app, backend, settle, monkeypatch
):
    monkeypatch.setattr(MessageLog, "page_size", 25)
    seed_read(backend, "erin", 200)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(MessageLog)
        assert on_screen(app)[-1] == "message 199"
        for _ in range(60):
            await pilot._post_mouse_events([events.MouseScrollUp], MessageLog, offset=(5, 5))
        await settle(pilot)
        assert on_screen(app)[0] < "message 150"
        assert log.window.first is not None and log.window.first.body < "message 150"
        for _ in range(200):
            await pilot._post_mouse_events([events.MouseScrollDown], MessageLog, offset=(5, 5))
        await settle(pilot)
        assert on_screen(app)[-1] == "message 199"


async def test_long_lines_wrap_and_every_line_of_a_message_shows(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        backend.receive("bob", "first line\nsecond line\n\nfourth line")
        backend.receive("bob", " ".join(f"word{i:02d}" for i in range(40)))
        await settle(pilot)
        rows = lines(screen_text(app))
        start = next(i for i, r in enumerate(rows) if r.endswith("bob first line"))
        assert rows[start + 1 : start + 4] == ["second line", "", "fourth line"]
        wrapped = [r for r in rows if "word" in r]
        assert len(wrapped) > 2
        assert " ".join(wrapped).split()[2:] == [f"word{i:02d}" for i in range(40)]


async def test_delivery_marks_change_in_place_when_scrolled_away_and_back(
    build_app, backend, screen_text, settle
):
    backend.ack_sends = False
    seed_read(backend, "erin", 100)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"ping", "enter")
        await settle(pilot)
        sent = backend.messages["erin"][-1]
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        backend.change_state(sent.id, DeliveryState.DELIVERED)
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        [row] = [r for r in lines(screen_text(app)) if "ping" in r]
        assert row.split() == ["14:05", "you", "ping", "✓✓"]


async def test_under_another_screen_nothing_is_read_until_back(build_app, backend, settle):
    from textual.screen import Screen

    class Cover(Screen[None]):
        DEFAULT_CSS = "Cover { background: black; }"  # opaque: nothing shows through

    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        conversation = app.screen
        assert backend.unread["bob"] == 0
        await app.push_screen(Cover())
        await settle(pilot)
        fresh = backend.receive("bob", "still there?")
        await settle(pilot)
        assert backend.unread["bob"] == 1 and backend.read_up_to[-1] != fresh.id
        app.pop_screen()
        await settle(pilot)
        assert app.screen is conversation
        assert backend.read_up_to[-1] == fresh.id and backend.unread["bob"] == 0


async def test_a_short_conversation_sits_at_the_bottom_by_the_message_box(
    build_app, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        bottom = next(i for i, line in enumerate(lines) if line.startswith("╰"))
        assert "see you at 5" in lines[bottom - 1]  # the newest, just above the border
        assert lines[3].strip("│ ") == ""  # the blank lines are on top


async def test_the_first_time_the_log_is_drawn_it_shows_the_newest_messages(
    build_app, backend, monkeypatch
):
    """No empty box first and the messages a frame later: by the time the log draws
    its first line, the messages are laid out at its width and it sits at the end."""
    seed_read(backend, "erin", 300)
    first_draw: list[tuple[int, bool]] = []
    draw = MessageLog.render_line

    def noting(log: MessageLog, y: int):
        if not first_draw:
            first_draw.append((log.window.width, log.scroll_y >= log.max_scroll_y > 0))
        return draw(log, y)

    monkeypatch.setattr(MessageLog, "render_line", noting)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        assert first_draw == [(log.scrollable_content_region.width, True)]
        assert on_screen(app)[-1] == "message 299"
