"""The dialog that starts a room (protocol v2): its name and who is in it. Checks
both on the spot (a name, 1-99 valid user names) and dismisses with them, or
``None`` when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.rooms import RoomError, check_room_name
from mqchat.core.text import display_safe

__all__ = ["NewRoomScreen"]

MAX_OTHERS = 99


class NewRoomScreen(ModalScreen[tuple[str, list[str]] | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new_room.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "New room"
            yield Static("Its name:")
            yield Input(placeholder="e.g. weekend trip", id="room-name")
            yield Static("Who is in it (user names, with commas or spaces):")
            yield Input(placeholder="e.g. bob, carol", id="room-members")
            yield Static(
                Text("enter creates · esc cancels", style="dim"),
                id="room-error",
                classes="dialog-error",
            )

    def on_mount(self) -> None:
        self.query_one("#room-name", Input).focus()

    def _say(self, problem: str) -> None:
        self.query_one("#room-error", Static).update(
            Text(f"✗ {display_safe(problem)}", style="bold red")
        )

    @on(Input.Submitted, "#room-name")
    def next_field(self) -> None:
        self.query_one("#room-members", Input).focus()

    @on(Input.Submitted, "#room-members")
    def submit(self) -> None:
        try:
            name = check_room_name(self.query_one("#room-name", Input).value)
        except RoomError as exc:
            self._say(str(exc))
            self.query_one("#room-name", Input).focus()
            return
        raw = self.query_one("#room-members", Input).value.replace(",", " ").split()
        try:
            members = list(dict.fromkeys(validate_user_name(u) for u in raw))
        except InvalidUserName as exc:
            self._say(str(exc))
            return
        if not members:
            self._say("name at least one other member")
            return
        if len(members) > MAX_OTHERS:
            self._say(f"a room has at most {MAX_OTHERS + 1} members")
            return
        self.dismiss((name, members))

    def action_cancel(self) -> None:
        self.dismiss(None)
