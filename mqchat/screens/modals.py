"""Small dialogs over the chat screens: ask for a user name, confirm a removal."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe

__all__ = ["AddContactScreen", "ConfirmScreen"]


class AddContactScreen(ModalScreen[str | None]):
    """Ask for the user name of a new friend; refuses invalid names on the spot.
    Dismisses with the valid name, or ``None`` when cancelled."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="add.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Add a friend"
            yield Static("Their user name on this broker:")
            yield Input(placeholder="e.g. bob", id="add-user")
            yield Static(
                Text("enter adds · esc cancels", style="dim"),
                id="add-error",
                classes="dialog-error",
            )

    def on_mount(self) -> None:
        self.query_one("#add-user", Input).focus()

    @on(Input.Submitted, "#add-user")
    def submit(self, event: Input.Submitted) -> None:
        try:
            user = validate_user_name(event.value.strip())
        except InvalidUserName as exc:
            self.query_one("#add-error", Static).update(
                Text(f"✗ {display_safe(str(exc))}", style="bold red")
            )
            return
        self.dismiss(user)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``question`` is shown literally, never as markup."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Please confirm"
            yield Static(Text(display_safe(self.question)))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
