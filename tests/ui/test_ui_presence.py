"""The presence view: everyone known, online first, live, with a key to befriend."""

from __future__ import annotations

from mqchat.core.model import PresenceState
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.presence import PresenceScreen
from tests.support.fake_backend import at


def roster_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│ ") and line.strip("│ ")]


async def test_lists_everyone_online_first(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PresenceScreen)
        assert backend.roster_watch_calls == [True]
        lines = [" ".join(line.strip("│ ").split()) for line in roster_lines(screen_text(app))]
        assert lines == [
            "● Alice (alice) online since 14:04 (you)",
            "● Bob (bob) online since 13:02 (friend)",
            "● erin online since 09:15",
            "○ carol offline last seen 13:40 (connection lost) (friend)",
        ]


async def test_updates_live_and_a_adds_the_selected_user(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        backend.set_presence("zoe", PresenceState.AWAY, at("14:05"))
        await settle(pilot)
        assert "◐ zoe" in screen_text(app)
        await pilot.press("down", "down")  # alice (you), bob, erin
        await pilot.press("a")
        await settle(pilot)
        assert "erin" in backend.contact_list
        erin = next(line for line in screen_text(app).splitlines() if "● erin" in line)
        assert "(request sent)" in erin
        assert [n.message for n in app._notifications] == ["Friend request sent to erin."]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert backend.roster_watch_calls == [True, False]
        assert "erin" in screen_text(app)


async def test_adding_yourself_or_a_friend_again_is_explained(build_app, backend, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("a")  # alice: that is us
        await pilot.press("down", "a")  # bob: already a friend
        await settle(pilot)
        assert [n.message for n in app._notifications] == [
            "That is you.",
            "bob is already a friend.",
        ]
        assert set(backend.contact_list) == {"bob", "carol", "dave"}
