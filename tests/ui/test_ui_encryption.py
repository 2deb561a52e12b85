"""End-to-end encryption in the TUI (protocol v3): a lock on each message that
travelled sealed, the conversation's state on the log's border (encrypted,
verified), a banner when it is not encrypted or the peer's keys changed, the
friends list's badges, the safety number behind ctrl+k, and a room's state; all
following TrustChanged live."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mqchat.core.events import TrustChanged
from mqchat.core.trust import KeyTrust
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.keys_help import KeysHelpScreen
from mqchat.screens.room import RoomScreen
from mqchat.screens.safety_number import SafetyNumberScreen
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import FakeBackend, at
from tests.ui.test_ui_rooms import ROOM, open_room, with_room
from tests.ui.test_ui_snapshots import SIZE, keys

CHANGED = "⚠ bob's keys changed at 14:03 — compare safety numbers (ctrl+k)"


def with_sealed(backend: FakeBackend) -> FakeBackend:
    """bob's last two messages, ours and his, travelled sealed."""
    backend.seed_message("bob", "the door code is 4711", at("14:03"), sealed=True)
    backend.seed_message("bob", "got it, thanks", at("14:04"), outgoing=True, sealed=True)
    return backend


def log_title(app) -> str:
    title = app.screen.query_one(MessageLog).border_title
    return "" if title is None else Text.from_markup(title).plain


def dialog_text(app) -> str:
    """What the safety-number dialog says, its lines joined."""
    return "\n".join(str(s.render()) for s in app.screen.query(Static) if s.display)


def banner(app) -> Static | None:
    """The trust banner under the header, when it shows."""
    widget = app.screen.query_one("#trust-banner", Static)
    return widget if widget.display else None


def banner_text(app) -> str:
    widget = banner(app)
    return "" if widget is None else str(widget.render())


async def test_a_lock_only_on_sealed_messages(build_app, backend, settle):
    with_sealed(backend)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = app.screen.query_one(MessageLog).plain_rows()
        sealed = [row for row in rows if "🔒" in row]
        assert [row.split(" 🔒")[0] for row in sealed] == [
            "14:03 bob the door code is 4711",
            "14:04 you got it, thanks",
        ]
        assert len(rows) - len(sealed) == 4  # the older ones went in plain text
        # What we send to bob from now on is sealed, and says so.
        backend.seal_sends = True
        for key in "ok":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(MessageLog).plain_rows()[-1].startswith("14:05 you ok 🔒")


async def test_the_conversation_says_encrypted_then_verified_live(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert log_title(app) == "🔒 end-to-end encrypted"
        assert banner(app) is None
        backend.set_keys("bob", verified=True)
        await settle(pilot)
        assert log_title(app) == "🔒 end-to-end encrypted · ✓ verified"
        assert banner(app) is None


async def test_changed_keys_show_a_loud_warning_live(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend.set_keys("carol", devices=2, changed=at("14:02"))  # someone else's
        await settle(pilot)
        assert banner(app) is None
        backend.set_keys("bob", devices=2, changed=at("14:03"))
        await settle(pilot)
        assert banner_text(app) == CHANGED
        assert banner(app).has_class("-changed")
        assert log_title(app) == "🔒 end-to-end encrypted"  # still sealed, with the new keys


async def test_a_peer_without_keys_is_said_plainly(build_app, backend, settle):
    backend.seed_contact("erin")
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert banner_text(app) == "not encrypted: erin has no keys (an older mqchat)"
        assert not banner(app).has_class("-changed")
        assert log_title(app) == ""
        backend.set_keys("erin")  # they updated mqchat: their keys came
        await settle(pilot)
        assert banner(app) is None
        assert log_title(app) == "🔒 end-to-end encrypted"


async def test_friends_show_verified_and_changed_keys_live(build_app, backend, screen_text, settle):
    backend.seed_keys("bob", verified=True)
    backend.seed_keys("carol", changed=at("14:03"))
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        lines = screen_text(app).splitlines()

        def line_of(user: str) -> str:
            return next(line for line in screen_text(app).splitlines() if f" {user}" in line)

        assert "Bob (bob) ✓" in line_of("(bob)")
        assert "⚠ keys changed" in line_of("carol") and "✓" not in line_of("carol")
        assert "⚠" not in line_of("dave") and "✓" not in line_of("dave")
        assert sum("⚠ keys changed" in line for line in lines) == 1
        backend.set_keys("dave", changed=at("14:04"))
        backend.set_keys("bob", devices=2, changed=at("14:04"))  # verified no longer
        await settle(pilot)
        assert "⚠ keys changed" in line_of("dave")
        assert "⚠ keys changed" in line_of("(bob)") and "✓" not in line_of("(bob)")


async def test_ctrl_k_shows_the_safety_number_and_m_marks_verified(
    build_app, backend, screen_text, settle
):
    backend.seed_keys("bob", devices=2, changed=at("14:03"))
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert banner_text(app) == CHANGED
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, SafetyNumberScreen)
        text = dialog_text(app)
        for row in (
            "33733 96326 40826 94116",
            "50463 95424 83365 03742",
            "66538 59881 97838 08930",
        ):
            assert row in text
        assert "⚠ bob's keys changed at 14:03 (2 devices); not verified since." in text
        assert "m: mark verified" in text
        await pilot.press("m")
        await settle(pilot)
        assert backend.verified == ["bob"]
        assert "✓ verified: you compared these with bob (2 devices)." in dialog_text(app)
        assert "m: mark verified" not in dialog_text(app)
        await pilot.press("m")  # verified already: nothing to do
        await settle(pilot)
        assert backend.verified == ["bob"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert banner(app) is None
        assert log_title(app) == "🔒 end-to-end encrypted · ✓ verified"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        assert any("Bob (bob) ✓" in line for line in screen_text(app).splitlines())


async def test_ctrl_k_without_keys_says_so_and_marks_nothing(
    build_app, backend, screen_text, settle
):
    backend.seed_contact("erin")
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        text = dialog_text(app)
        assert "erin has no keys (an older mqchat): nothing you send them is encrypted" in text
        assert "mark verified" not in text
        await pilot.press("m")
        await settle(pilot)
        assert backend.verified == []
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)


async def test_a_room_says_whom_it_is_not_encrypted_for(build_app, backend, settle):
    with_room(backend)
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_room(pilot, app, settle)
        assert isinstance(app.screen, RoomScreen)
        assert log_title(app) == "🔒 encrypted for all members"
        backend.keys.pop("carol")  # carol went back to an older mqchat
        backend.emit(TrustChanged(KeyTrust("carol")))
        await settle(pilot)
        assert log_title(app) == "not encrypted for: carol"
        backend.set_keys("bob", changed=at("14:04"))
        await settle(pilot)
        assert banner_text(app).startswith("⚠ keys changed: bob at 14:04")
        await pilot.press("ctrl+k")  # no one safety number in a room
        await settle(pilot)
        assert isinstance(app.screen, RoomScreen)
        assert app.screen.peer == ROOM


def test_snapshot_sealed_and_verified(snap_compare, build_app, backend):
    with_sealed(backend)
    backend.seed_keys("bob", verified=True, sealed=True)
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_snapshot_keys_changed(snap_compare, build_app, backend):
    with_sealed(backend)
    backend.seed_keys("bob", devices=2, sealed=True, changed=at("14:03"))
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_snapshot_the_safety_number(snap_compare, build_app, backend):
    backend.seed_keys("bob", devices=2, sealed=True, changed=at("14:03"))
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("ctrl+k"))


async def test_f1_lists_the_safety_number_key(build_app, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelpScreen)
        assert (
            "^k",
            "Safety number: compare it with the peer's, mark their keys verified",
        ) in app.screen.rows


def test_snapshot_friends_with_verified_and_changed_keys(snap_compare, build_app, backend):
    backend.seed_keys("bob", verified=True, sealed=True)
    backend.seed_keys("carol", devices=2, sealed=True, changed=at("14:03"))
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())
