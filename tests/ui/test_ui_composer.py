"""The message box of a conversation: several lines, pastes kept whole, nothing typed
lost while a send is in flight or when it fails, the last message recalled with up,
drafts kept per conversation, and the draft edited in ``$EDITOR``."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from mqchat.app import LoginDefaults, make_app
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.widgets.composer import (
    MAX_LINES,
    Composer,
    EditorError,
    edit_outside,
    editor_command,
    merged,
    outgoing_text,
)
from mqchat.widgets.message_log import MessageLog
from tests.support.fake_backend import NOW, fake_factory


def composer(app) -> Composer:
    return app.screen.query_one("#compose", Composer)


def bodies(app) -> list[str]:
    return [m.body for m in app.screen.query_one(MessageLog).window.messages]


async def test_a_pasted_text_of_three_lines_is_one_message(build_app, backend, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.post_message(events.Paste("one\ntwo\nthree"))  # as the terminal driver does
        await settle(pilot)
        assert composer(app).text == "one\ntwo\nthree"
        assert composer(app).size.height == 3  # the box grew to show all of it
        assert backend.sent == []
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent == [("bob", "one\ntwo\nthree")]
        assert composer(app).text == ""
        assert composer(app).size.height == 1
        # the message shows as three lines under one time and sender
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "14:05 you one" in line)
        assert lines[first + 1].split() == ["│", "two", "│"]
        assert lines[first + 2].split() == ["│", "three", "│"]


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
async def test_a_paste_with_carriage_returns_keeps_its_lines(build_app, backend, settle, newline):
    """xterm and tmux send the line breaks of a paste as CR, as enter would be."""
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.post_message(events.Paste(newline.join(["one", "two", "three"])))
        await settle(pilot)
        assert composer(app).text == "one\ntwo\nthree"
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent == [("bob", "one\ntwo\nthree")]


async def test_terminal_controls_in_a_paste_never_reach_the_terminal(
    build_app, backend, screen_text, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.post_message(events.Paste("x\x1b[2J\x07y\x9b31m\x1b]0;pwned\x07 [bold]z[/]"))
        await settle(pilot)
        assert composer(app).text == "x[2Jy31m]0;pwned [bold]z[/]"
        text = screen_text(app)
        assert "x[2Jy31m]0;pwned [bold]z[/]" in text  # markup shown as typed
        assert not any(ch in text for ch in "\x1b\x07\x9b")


async def test_the_box_grows_up_to_its_limit_then_scrolls(build_app, screen_text, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        box = composer(app)
        app.post_message(events.Paste("\n".join(f"line {i}" for i in range(20))))
        await settle(pilot)
        assert box.size.height == MAX_LINES
        # the cursor, at the end, is in view: the last lines show, the first do not
        shown = screen_text(app).splitlines()[-MAX_LINES - 2 : -2]
        assert [" ".join(line.strip("▊").split()[:2]) for line in shown] == [
            f"line {i}" for i in range(12, 20)
        ]


async def test_enter_sends_while_ctrl_j_and_shift_enter_start_a_new_line(
    build_app, backend, settle
):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"dear bob", "ctrl+j", *"how are", "shift+enter", *"you?")
        await settle(pilot)
        assert composer(app).text == "dear bob\nhow are\nyou?"
        assert backend.sent == []
        await pilot.press("ctrl+j", "enter")  # a trailing new line is a slip: not sent
        await settle(pilot)
        assert backend.sent == [("bob", "dear bob\nhow are\nyou?")]
        assert bodies(app)[-1] == "dear bob\nhow are\nyou?"


def burst(app, keys: str) -> None:
    """Keys arriving at once, as the terminal driver posts them when a script, a
    paste without brackets or a fast typist sends several in one read (``\r`` is
    enter, ``\n`` ctrl+j)."""
    names = {"\r": "enter", "\n": "ctrl+j", " ": "space"}
    for char in keys:
        app.post_message(events.Key(names.get(char, char), char))


async def test_keys_arriving_at_once_are_taken_in_order(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, "are you there?\rdear\nbob\rnot yet")
        await settle(pilot)
        assert backend.sent == [("bob", "are you there?"), ("bob", "dear\nbob")]
        assert composer(app).text == "not yet"


async def test_typing_during_a_slow_send_loses_nothing(build_app, backend, screen_text, settle):
    backend.send_gate = asyncio.Event()
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"first", "enter")
        await settle(pilot)
        assert composer(app).text == ""  # out of the box at once, though still on its way
        await pilot.press(*"second", "enter", *"third")
        await settle(pilot)
        assert backend.sent == []  # the broker is slow
        assert composer(app).text == "third"
        backend.send_gate.set()
        await settle(pilot)
        assert backend.sent == [("bob", "first"), ("bob", "second")]  # in order
        assert bodies(app)[-2:] == ["first", "second"]
        assert composer(app).text == "third"  # what was typed meanwhile is still there
        assert "third" in screen_text(app).splitlines()[-3]


async def test_a_failed_send_comes_back_in_front_of_what_was_typed_since(
    build_app, backend, settle
):
    backend.send_gate = asyncio.Event()
    backend.send_error = "not connected: the message was not stored"
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"first", "enter", *"second", "enter", *"and more")
        await settle(pilot)
        assert composer(app).text == "and more"
        backend.send_gate.set()
        await settle(pilot)
        assert composer(app).text == "first\nsecond\nand more"
        assert [(n.title, n.message) for n in app._notifications] == [
            ("Not sent", "not connected: the message was not stored")
        ]
        assert backend.sent == [] and len(bodies(app)) == 4
        # once it works again, the same enter sends it all
        backend.send_error = None
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent == [("bob", "first\nsecond\nand more")]


async def test_a_send_failing_after_leaving_comes_back_as_the_draft(build_app, backend, settle):
    backend.send_gate = asyncio.Event()
    backend.send_error = "not connected: the message was not stored"
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bye", "enter", "escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        backend.send_gate.set()
        await settle(pilot)
        assert [n.title for n in app._notifications] == ["Not sent"]
        app.screen.open_conversation("bob")
        await settle(pilot)
        assert composer(app).text == "bye"


async def test_a_send_ending_after_leaving_and_coming_back_shows_in_the_new_screen(
    build_app, backend, settle
):
    backend.send_gate = asyncio.Event()
    backend.send_error = "not connected: the message was not stored"
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"lost?", "enter", *"next", "enter", "escape")
        await settle(pilot)
        app.screen.open_conversation("bob")
        await settle(pilot)
        await pilot.press(*"typed since")
        backend.send_gate.set()
        await settle(pilot)
        assert composer(app).text == "lost?\nnext\ntyped since"
        backend.send_error = None
        await pilot.press("enter")
        await settle(pilot)
        assert bodies(app)[-1] == "lost?\nnext\ntyped since"


async def test_a_send_ending_after_coming_back_is_shown_there(build_app, backend, settle):
    backend.send_gate = asyncio.Event()
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"on its way", "enter", "escape")
        await settle(pilot)
        app.screen.open_conversation("bob")
        await settle(pilot)
        assert "on its way" not in bodies(app)
        backend.send_gate.set()
        await settle(pilot)
        assert bodies(app)[-1] == "on its way"


async def test_a_send_goes_on_after_leaving(build_app, backend, settle):
    backend.send_gate = asyncio.Event()
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"bye", "enter", "escape")
        await settle(pilot)
        backend.send_gate.set()
        await settle(pilot)
        assert backend.sent == [("bob", "bye")]
        assert app.session is not None and "bob" not in app.session.drafts


async def test_up_in_an_empty_box_recalls_the_last_message_sent(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert composer(app).text == "yes, on my way"  # from the history: bob wrote after it
        await pilot.press("backspace", "backspace", "backspace", *"bus", "enter")
        await settle(pilot)
        assert backend.sent == [("bob", "yes, on my bus")]
        await pilot.press("up")
        await settle(pilot)
        assert composer(app).text == "yes, on my bus"


async def test_a_recalled_message_sent_with_controls_comes_back_without_them(
    build_app, backend, settle
):
    backend.seed_message("bob", "from a script\x1b[2J\r\nline two", NOW, outgoing=True)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert composer(app).text == "from a script[2J\nline two"


async def test_up_in_a_box_with_text_moves_the_cursor(build_app, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"ab", "ctrl+j", *"cd", "up", "x")
        await settle(pilot)
        assert composer(app).text == "abx\ncd"


async def test_up_with_nothing_sent_before_leaves_the_box_empty(build_app, backend, settle):
    backend.seed_contact("erin", "Erin")
    backend.seed_message("erin", "hello?", NOW)
    app, _ = build_app(open_peer="erin")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert composer(app).text == ""


async def test_drafts_are_kept_per_conversation(build_app, backend, settle):
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"half a", "ctrl+j", *"thought")
        await pilot.press("escape")
        await settle(pilot)
        friends = app.screen
        assert isinstance(friends, FriendsScreen)
        friends.open_conversation("carol")
        await settle(pilot)
        assert composer(app).text == ""  # bob's draft is bob's
        await pilot.press(*"for carol", "escape")
        await settle(pilot)
        typing_before = list(backend.typing_sent)
        friends.open_conversation("bob")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.peer == "bob"
        assert composer(app).text == "half a\nthought"
        assert backend.typing_sent == typing_before  # a draft shown again is not typing
        await pilot.press("x")  # the cursor waits at its end
        await settle(pilot)
        assert composer(app).text == "half a\nthoughtx"
        await pilot.press("enter", "escape")
        await settle(pilot)
        friends.open_conversation("bob")
        await settle(pilot)
        assert composer(app).text == ""  # sent: no draft any more
        assert backend.sent == [("bob", "half a\nthoughtx")]
        assert app.session is not None and app.session.drafts == {"carol": "for carol"}


# The editor


@pytest.fixture
def suspendable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test driver cannot hand the terminal over: let it pretend it did, so the
    editor runs as it would between ``suspend`` and ``resume``."""
    monkeypatch.setattr(HeadlessDriver, "can_suspend", property(lambda _self: True))
    monkeypatch.setattr(HeadlessDriver, "suspend_application_mode", lambda _self: None)
    monkeypatch.setattr(HeadlessDriver, "resume_application_mode", lambda _self: None)


def fake_editor(tmp_path: Path, body: str) -> str:
    """An executable that edits the file it is given as ``body`` (Python) says."""
    script = tmp_path / "editor.py"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\nfrom pathlib import Path\n"
        f"path = Path(sys.argv[1])\ntext = path.read_text()\n{body}\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


async def test_ctrl_e_edits_the_draft_in_the_editor(
    build_app, backend, settle, suspendable, tmp_path, monkeypatch
):
    seen = tmp_path / "seen"
    editor = fake_editor(
        tmp_path,
        f"seen = [str(path), path.parent.stat().st_mode, text]\n"
        f"Path({str(seen)!r}).write_text(json.dumps(seen))\n"
        "path.write_text(text.upper() + 'and a second line\\x1b[31m\\n')",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"draft", "ctrl+e")
        await settle(pilot)
        assert composer(app).text == "DRAFT\nand a second line[31m"  # no ESC in the box
        assert backend.sent == []
        assert app.focused is composer(app)
        await pilot.press("enter")
        await settle(pilot)
        assert backend.sent == [("bob", "DRAFT\nand a second line[31m")]
    # the editor was given the draft in a private file, gone afterwards
    path, mode, text = json.loads(seen.read_text())
    assert text == "draft\n" and mode & 0o077 == 0
    assert not Path(path).exists() and not Path(path).parent.exists()


async def test_visual_comes_before_editor(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano -R"}) == ["nano", "-R"]
    with pytest.raises(EditorError, match=r"no editor: set \$EDITOR"):
        editor_command({"EDITOR": "  "})
    vi = tmp_path / "vi"
    vi.write_text("#!/bin/sh\n")
    vi.chmod(0o755)
    assert editor_command({}) == [str(vi)]
    with pytest.raises(EditorError, match=r"\$EDITOR cannot be read"):
        editor_command({"EDITOR": "nano 'unclosed"})


@pytest.mark.parametrize(
    ("editor", "note"),
    [
        ("failing", "exited with 3; the draft is as it was"),
        ("missing", "cannot run /nonexistent/editor: No such file or directory"),
    ],
)
async def test_an_editor_that_fails_leaves_the_draft_and_says_why(
    build_app, settle, suspendable, tmp_path, monkeypatch, editor, note
):
    command = (
        fake_editor(tmp_path, "path.write_text('garbage'); sys.exit(3)")
        if editor == "failing"
        else "/nonexistent/editor"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command)
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"keep me", "ctrl+e")
        await settle(pilot)
        assert composer(app).text == "keep me"
        [notification] = app._notifications
        assert notification.message.endswith(note)
        assert app.is_running


async def test_without_a_terminal_to_hand_over_the_editor_is_refused(
    build_app, settle, tmp_path, monkeypatch
):
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "path.write_text('changed')"))
    app, _ = build_app(open_peer="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"keep me", "ctrl+e")
        await settle(pilot)
        assert composer(app).text == "keep me"
        assert [n.message for n in app._notifications] == [
            "this terminal cannot hand over to an editor"
        ]


def test_a_draft_that_cannot_be_written_is_an_editor_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(EditorError, match="cannot keep the draft in a file: No such file"):
        edit_outside(["true"], "draft")


def test_what_is_sent_and_what_is_put_back():
    assert outgoing_text("\n\n  hello\nworld  \n\n") == "  hello\nworld  "
    assert outgoing_text(" \n \t\n") == ""
    assert merged("first", "", "second", "typed since") == "first\nsecond\ntyped since"
    assert merged("first", "  ") == "first"


async def test_the_composer_keys_can_be_swapped_in_the_config(backend, settle):
    """Someone whose fingers want enter for a new line and ctrl+s to send."""
    _, connect = fake_factory(backend)
    app = make_app(
        defaults=LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
        connect=connect,
        auto_login=True,
        open_peer="bob",
        clock=lambda: NOW,
        cursor_blink=False,
        keymap={"composer.send": "ctrl+s", "composer.newline": "enter"},
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"one", "enter", *"two")
        await settle(pilot)
        assert composer(app).text == "one\ntwo" and backend.sent == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert backend.sent == [("bob", "one\ntwo")]
