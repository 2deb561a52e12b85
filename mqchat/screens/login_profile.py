"""The small box that asks under which name the login form is saved as a profile."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mqchat.config.profiles import PROFILE_NAME, ConfigError, validate_profile_name
from mqchat.core.text import display_safe

__all__ = ["SaveProfileScreen"]


class SaveProfileScreen(ModalScreen[str | None]):
    """Dismisses with a valid profile name, or ``None`` on ``escape``."""

    DEFAULT_CSS = """
    SaveProfileScreen {
        align: center middle;
    }
    SaveProfileScreen > Vertical {
        width: 60;
        height: auto;
        border: round $primary;
        padding: 1 2;
        background: $surface;
    }
    SaveProfileScreen #save-hint {
        margin: 1 0 0 0;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="login.save_profile.cancel")]

    def __init__(self, suggestion: str = "") -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save as profile"
            yield Input(self.suggestion, placeholder=f"a name: {PROFILE_NAME}", id="profile-name")
            yield Static(
                Text("enter saves (without the password) · esc cancels", style="dim"),
                id="save-hint",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        try:
            validate_profile_name(name)
        except ConfigError as exc:
            self.query_one("#save-hint", Static).update(
                Text(f"✗ {display_safe(str(exc))}", style="bold red")
            )
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
