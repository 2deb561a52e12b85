"""The sign-in form: broker URL, user name, display name and password. It validates
what it can before anything is sent and shows why a connection attempt failed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from mqchat.broker_url import BrokerUrlError, parse_broker_url
from mqchat.domain import InvalidUserName, display_safe, validate_user_name
from mqchat.paths import default_data_dir
from mqchat.screens.base import MqchatScreen
from mqchat.settings import Settings
from mqchat.widgets.status_bar import StatusInfo

__all__ = ["LoginDefaults", "LoginScreen", "settings_from_form"]


@dataclass
class LoginDefaults:
    """What the login form is prefilled with (from flags and ``MQCHAT_*``)."""

    broker: str = "mqtt://localhost:1883"
    user: str = ""
    display_name: str = ""
    password: str = ""
    data_dir: Path | None = None


def settings_from_form(form: LoginDefaults) -> Settings:
    """Settings for a login, or :class:`InvalidUserName` / :class:`BrokerUrlError`
    with a sentence to show. Nothing is sent before this succeeds."""
    user = validate_user_name(form.user.strip())
    broker = parse_broker_url(form.broker)
    return Settings(
        broker=broker,
        user=user,
        display_name=form.display_name.strip() or None,
        password=form.password or None,
        data_dir=form.data_dir or default_data_dir(),
    )


HINT = Text("tab moves between fields · enter connects", style="dim")


class LoginScreen(MqchatScreen):
    """Ask who and where; the App does the connecting and reports back."""

    CSS_PATH = "login.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="login.cancel"),
    ]

    class Submitted(Message):
        """The form passed validation: the App should connect with ``settings``."""

        def __init__(self, settings: Settings) -> None:
            super().__init__()
            self.settings = settings

    class Cancelled(Message):
        """The user gave up waiting for the connection."""

    def __init__(
        self, status: StatusInfo, defaults: LoginDefaults, *, error: str | None = None
    ) -> None:
        super().__init__(status)
        self.defaults = defaults
        self.initial_error = error
        self.connecting = False

    def compose_body(self) -> Iterable[Widget]:
        d = self.defaults
        with Vertical(id="login-box") as box:
            box.border_title = "Sign in to mqchat"
            yield from self._row("Broker URL", Input(d.broker, id="broker"))
            yield from self._row(
                "User name", Input(d.user, placeholder="A-Z a-z 0-9 _ . -", id="user")
            )
            yield from self._row(
                "Display name",
                Input(d.display_name, placeholder="optional", id="display-name"),
            )
            yield from self._row(
                "Password",
                Input(d.password, placeholder="optional", password=True, id="password"),
            )
            yield Button("Connect", variant="primary", id="connect")
            yield Static(HINT, id="login-message")

    def _row(self, label: str, field: Input) -> Iterable[Widget]:
        with Horizontal(classes="login-row"):
            yield Label(label, classes="login-label")
            yield field

    def on_mount(self) -> None:
        if self.initial_error:
            self.show_error(self.initial_error, focus="user")
            return
        for field_id in ("broker", "user"):
            field = self.query_one(f"#{field_id}", Input)
            if not field.value:
                field.focus()
                return
        self.query_one("#password", Input).focus()

    def form(self) -> LoginDefaults:
        def value(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        return LoginDefaults(
            broker=value("broker"),
            user=value("user"),
            display_name=value("display-name"),
            password=value("password"),
            data_dir=self.defaults.data_dir,
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def submit(self) -> None:
        if self.connecting:
            return
        try:
            settings = settings_from_form(self.form())
        except InvalidUserName as exc:
            self.show_error(str(exc), focus="user")
            return
        except BrokerUrlError as exc:
            self.show_error(str(exc), focus="broker")
            return
        self.post_message(self.Submitted(settings))

    def action_cancel(self) -> None:
        if self.connecting:
            self.post_message(self.Cancelled())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.connecting
        return True

    # Called by the App while it connects.

    def show_connecting(self, broker_label: str) -> None:
        self._set_busy(True)
        self._message(Text(f"connecting to {broker_label}…", style="yellow"))

    def show_error(self, text: str, *, focus: str = "password") -> None:
        self._set_busy(False)
        self._message(Text(f"✗ {display_safe(text)}", style="bold red"), error=True)
        self.query_one(f"#{focus}", Input).focus()

    def show_cancelled(self) -> None:
        self._set_busy(False)
        self._message(Text("cancelled", style="dim"))
        self.query_one("#user", Input).focus()

    def _set_busy(self, busy: bool) -> None:
        self.connecting = busy
        for widget in self.query("#login-box Input, #connect"):
            widget.disabled = busy
        self.refresh_bindings()

    def _message(self, text: Text, *, error: bool = False) -> None:
        message = self.query_one("#login-message", Static)
        message.set_class(error, "-error")
        message.update(text)
