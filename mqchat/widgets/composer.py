"""The box a message is written in: several lines (enter sends, ctrl+j starts a
new line, and so does shift+enter where the terminal tells it from enter; a paste
keeps every line), growing with what is in
it up to :data:`MAX_LINES` and scrolling beyond. The text leaves the box the moment
it is sent, so what is typed while a send is in flight stays; a failed send puts
its text back (:meth:`Composer.put_back`). Up in an empty box asks for the last
message sent (:class:`Composer.RecallWanted`); ctrl+e edits the draft in
``$VISUAL``/``$EDITOR`` (``vi`` without one)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.app import SuspendNotSupported
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from mqchat.core.text import display_safe

__all__ = [
    "MAX_LINES",
    "RECALL_DEPTH",
    "Composer",
    "EditorError",
    "editor_command",
    "merged",
    "outgoing_text",
    "typeable",
]

MAX_LINES = 8
"""Lines the box grows to before it scrolls."""
RECALL_DEPTH = 100
"""How many of the newest messages up-arrow looks through for your last one."""


class EditorError(Exception):
    """The draft could not be edited outside (no editor, or it failed)."""


def typeable(text: str) -> str:
    """Text from outside the keyboard (a paste, the editor, a stored message) as the
    box may hold it: line breaks as ``\n`` (terminals paste them as CR), terminal
    controls (ESC, CSI, BEL…) removed: drawn raw, they would drive the terminal."""
    return display_safe(text.replace("\r\n", "\n").replace("\r", "\n"))


def outgoing_text(text: str) -> str:
    """What of the box is sent: the text without the blank lines around it (a
    trailing ctrl+j is a slip, not part of the message); ``""`` when it is blank."""
    return text.strip("\r\n") if text.strip() else ""


def merged(*parts: str) -> str:
    """Texts put together one per line, blank ones left out: unsent messages put back
    in front of what was typed since."""
    return "\n".join(part for part in parts if part.strip())


def editor_command(environ: Mapping[str, str]) -> list[str]:
    """The editor to run on a file (``$VISUAL``, then ``$EDITOR``, then ``vi``), as
    an argument list; the file's path is appended. Raises :class:`EditorError`."""
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if value:
            try:
                command = shlex.split(value)
            except ValueError as exc:
                raise EditorError(f"${name} cannot be read ({exc}): {value}") from None
            if command:
                return command
    vi = shutil.which("vi")
    if vi is None:
        raise EditorError("no editor: set $EDITOR (e.g. EDITOR=nano)")
    return [vi]


def edit_outside(command: list[str], text: str) -> str:
    """Run the editor ``command`` on ``text`` in a private temporary file and return
    what it saved (without the one newline editors add at the end). Raises
    :class:`EditorError` when the file cannot be written or read, or the editor
    cannot start or fails."""
    try:
        with tempfile.TemporaryDirectory(prefix="mqchat-draft-") as folder:
            path = Path(folder) / "message.txt"
            path.write_text(text + "\n" if text else "", encoding="utf-8")
            try:
                done = subprocess.run([*command, str(path)], check=False)
            except OSError as exc:
                raise EditorError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
            if done.returncode != 0:
                raise EditorError(
                    f"{command[0]} exited with {done.returncode}; the draft is as it was"
                )
            edited = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:  # the temporary folder: full, read-only, gone
        raise EditorError(f"cannot keep the draft in a file: {exc.strerror or exc}") from None
    return edited.removesuffix("\n")


class Composer(TextArea):
    """The message box of a conversation. Posts :class:`Submitted` (the box is
    already empty then), :class:`RecallWanted`, and TextArea's ``Changed``."""

    DEFAULT_CSS = f"""
    Composer {{
        height: auto;
        max-height: {MAX_LINES + 2};
        min-height: 3;
    }}
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", id="composer.send"),
        Binding("ctrl+j,shift+enter", "newline", "New line", id="composer.newline"),
        Binding("ctrl+e", "edit_outside", "Editor", id="composer.editor"),
        Binding(
            "up",
            "recall",
            "Last message",
            id="composer.recall",
            show=False,
            tooltip="In an empty box: your last message, to edit and send again",
        ),
    ]

    @dataclass
    class Submitted(Message):
        """``text`` is to be sent; it has left the box."""

        composer: Composer
        text: str

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class RecallWanted(Message):
        """Up was pressed in an empty box: :meth:`Composer.recall` the last message."""

        composer: Composer

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "",
        id: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            text,
            placeholder=placeholder,
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            highlight_cursor_line=False,
            tab_behavior="focus",
        )
        self.environ = os.environ if environ is None else environ
        """Where the editor is looked up ($VISUAL, $EDITOR)."""
        self.move_cursor(self.document.end)

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs a widget's key bindings on the app, after the key has gone
        # through here: a burst of keys (a paste without brackets, a fast typist, a
        # script) then has "h", "i", enter queued here while the app sends what this
        # box holds so far ("h"), and ctrl+j lands after the letter typed next. Keys
        # bound here (after the keymap) therefore run here, in order with the text.
        for node, bindings in self.screen._binding_chain:
            if node is not self:
                continue
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if await self.app.run_action(binding.action, self):
                    event.prevent_default()
                    event.stop()
                    return
            break

    async def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # instead of TextArea's, which takes the text as it is
        await super()._on_paste(events.Paste(typeable(event.text)))

    # Sending

    def action_submit(self) -> None:
        text = outgoing_text(self.text)
        if not text:
            return
        self.clear()
        self.post_message(self.Submitted(self, text))

    def put_back(self, *unsent: str) -> None:
        """Texts that were not sent go back in front of what is in the box now."""
        self.replace_all(merged(*unsent, self.text))

    def replace_all(self, text: str) -> None:
        """The box holds ``text`` (undoable), with the cursor at its end."""
        self.replace(text, self.document.start, self.document.end)
        self.move_cursor(self.document.end)

    # Lines

    def action_newline(self) -> None:
        self.insert("\n")

    # Recalling the last message

    def action_recall(self) -> None:
        if self.text:
            self.action_cursor_up()
        else:
            self.post_message(self.RecallWanted(self))

    def recall(self, text: str) -> None:
        """Put the last sent message in the box, unless something was typed since."""
        if not self.text and text:
            self.replace_all(typeable(text))

    # The editor

    def action_edit_outside(self) -> None:
        try:
            command = editor_command(self.environ)
            edited: str | EditorError
            with self.app.suspend():
                # Nothing may escape this block: the app comes back only after it.
                try:
                    edited = edit_outside(command, self.text)
                except EditorError as exc:
                    edited = exc
        except SuspendNotSupported:
            edited = EditorError("this terminal cannot hand over to an editor")
        except EditorError as exc:
            edited = exc
        self.focus()
        if isinstance(edited, EditorError):
            self.notify(str(edited), title="Editor", severity="error", markup=False)
        elif typeable(edited) != self.text:
            self.replace_all(typeable(edited))
