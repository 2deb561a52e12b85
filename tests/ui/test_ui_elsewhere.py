"""A message for another conversation: a toast naming its sender, and the count of
unread messages elsewhere in the status bar."""

from __future__ import annotations

import asyncio

from mqchat.core.text import preview
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.notifications import RECOUNT_DELAY


def status_line(text: str) -> str:
    return text.splitlines()[0]


def test_the_count_follows_a_message_well_within_the_users_second() -> None:
    # The toast is posted as the message is handled; the count waits for the
    # recount's delay only. (The test below waits on the screen itself: on a loaded
    # CI machine a frame can take longer than the user's second does here.)
    assert RECOUNT_DELAY <= 0.2


async def wait_until(pilot, check, timeout: float = 5.0) -> None:
    """Poll the screen as it would be seen, frame by frame."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"not within {timeout:g} s"
        await pilot.pause(0.02)


async def test_a_message_elsewhere_shows_a_toast_and_the_unread_count(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert "unread" not in status_line(screen_text(app))  # bob's 2 are on screen
        backend.receive("carol", "lunch at [b]noon[/b]?\x1b[2J\nsecond line")
        await wait_until(pilot, lambda: " 1 unread " in status_line(screen_text(app)))
        [toast] = app._notifications
        assert toast.title == "Message from carol"
        assert toast.message == "lunch at [b]noon[/b]?[2J…"  # literal, ESC gone, first line
        await wait_until(pilot, lambda: "Message from carol" in screen_text(app))

        # More from carol soon after: counted, not toasted again.
        backend.receive("carol", "hello?")
        await wait_until(pilot, lambda: " 2 unread " in status_line(screen_text(app)))
        assert len(app._notifications) == 1

        # bob's own messages arrive where they are read: no toast, no count.
        backend.receive("bob", "still here")
        await settle(pilot)
        assert " 2 unread " in status_line(screen_text(app))
        assert len(app._notifications) == 1

        # Back on the friends list neither toast nor count is needed (the list shows it);
        # opening carol's conversation reads hers: the count is the others'.
        await pilot.press("escape")
        await settle(pilot)
        backend.receive("dave", "psst")
        await settle(pilot)
        await pilot.pause(0.2)  # past the recount's delay
        assert "unread" not in status_line(screen_text(app))
        assert len(app._notifications) == 1
        await app.open_conversation("carol")
        await wait_until(pilot, lambda: " 1 unread " in status_line(screen_text(app)))  # dave


def test_preview_is_one_clean_line():
    assert preview("a\x07b\u202ec") == "abc"
    assert preview("first\nsecond") == "first…"
    assert preview("x" * 300, cells=10) == "x" * 9 + "…"
    assert preview("  \n") == ""


def test_snapshot_toast_and_unread_count(snap_compare, build_app, backend):
    app, _ = build_app(open_peer="bob")

    async def carol_writes(pilot) -> None:
        await pilot.pause()
        backend.receive("carol", "are you coming to the meetup tonight? I saved you a seat")
        backend.receive("dave", "ping")
        await wait_until(pilot, lambda: app.status.unread == 2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=carol_writes)
