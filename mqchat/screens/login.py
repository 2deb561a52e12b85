"""The sign-in form: broker URL, user name, display name and password. It validates
what it can before anything is sent and shows why a connection attempt failed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from mqchat.config.broker_url import BrokerUrlError, parse_broker_url
from mqchat.config.env import env_name
from mqchat.config.keyring_store import password_from_keyring, save_to_keyring
from mqchat.config.loader import SettingsError
from mqchat.config.profiles import ConfigError, Profile, save_profile
from mqchat.config.settings import Settings
from mqchat.core.text import display_safe
from mqchat.screens.base import MqchatScreen
from mqchat.screens.login_form import LoginDefaults, settings_from_form
from mqchat.screens.login_profile import SaveProfileScreen
from mqchat.widgets.status_bar import StatusInfo

__all__ = ["LoginDefaults", "LoginScreen", "settings_from_form"]

_FIELDS = {"user": "user", "broker": "broker", "display_name": "display-name"}
"""Settings the form shows → the field to put the cursor in when one is wrong."""


HINT = Text("tab moves between fields · enter connects", style="dim")


class LoginScreen(MqchatScreen):
    """Ask who and where; the App does the connecting and reports back."""

    CSS_PATH = "login.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="login.cancel"),
        Binding("ctrl+s", "save_profile", "Save profile", id="login.save_profile"),
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
        with VerticalScroll(id="login-box") as box:
            box.border_title = "Sign in to mqchat"
            if d.config_path is not None:
                with Horizontal(classes="login-row"):
                    yield Label("Profile", classes="login-label")
                    yield Select(
                        [(name, name) for name in sorted(d.profiles)],
                        value=d.profile if d.profile in d.profiles else Select.NULL,
                        prompt="(none: the fields below; ctrl+s saves them)",
                        id="profile",
                    )
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

    SHORT = 27
    """Terminal rows below which the form is laid out one line per field."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < self.SHORT, "-short")

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

        return replace(
            self.defaults,
            broker=value("broker"),
            user=value("user"),
            display_name=value("display-name"),
            password=value("password"),
        )

    # Profiles

    @on(Select.Changed, "#profile")
    def profile_chosen(self, event: Select.Changed) -> None:
        name = event.value
        if not isinstance(name, str) or name == self.defaults.profile:
            return
        try:
            self.defaults = self.defaults.with_profile(name)
        except SettingsError as exc:
            self.show_error(f"profile {name}: {exc}", focus="broker")
            return
        d = self.defaults
        for field_id, text in (
            ("broker", d.broker),
            ("user", d.user),
            ("display-name", d.display_name),
            ("password", ""),
        ):
            self.query_one(f"#{field_id}", Input).value = text
        self._message(Text(f"profile {name} · enter connects", style="dim"))
        self.query_one("#password", Input).focus()

    def action_save_profile(self) -> None:
        if self.defaults.config_path is None:
            return
        self.app.push_screen(SaveProfileScreen(self.defaults.profile or ""), self._save_as)

    def _save_as(self, name: str | None) -> None:
        path = self.defaults.config_path
        if not name or path is None:
            return
        form = self.form()
        try:
            profile = form.as_profile()
        except SettingsError as exc:
            self.show_error(str(exc), focus=_FIELDS.get(exc.field, "broker"))
            return
        self.run_worker(self._save(path, name, form, profile), group="save-profile")

    async def _save(self, path: Path, name: str, form: LoginDefaults, profile: Profile) -> None:
        """Write the profile and the password (keyring) in threads: a slow disk or a
        keyring waiting for its unlock dialog must not freeze the screen."""
        try:
            await asyncio.to_thread(save_profile, path, name, profile)
        except ConfigError as exc:
            self.show_error(str(exc), focus="broker")
            return
        self.defaults = replace(
            self.defaults, profiles={**self.defaults.profiles, name: profile}, profile=name
        )
        note = f"the password is not saved: it is asked for, or read from {env_name('password')}"
        if form.password:
            try:
                url = parse_broker_url(form.broker)
            except BrokerUrlError:
                url = None
            login = (url.username if url else None) or form.user.strip()
            if url is not None and await asyncio.to_thread(
                save_to_keyring, login, url.label, form.password
            ):
                note = "the password is in the system keyring"
        self._message(Text(f"saved profile {name} to {path} ({note})", style="green"))
        self._refresh_profiles()

    def _refresh_profiles(self) -> None:
        picker: Select[str] = self.query_one("#profile", Select)
        with picker.prevent(Select.Changed):
            picker.set_options([(n, n) for n in sorted(self.defaults.profiles)])
            chosen = self.defaults.profile
            picker.value = chosen if chosen is not None else Select.NULL

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def submit(self) -> None:
        if self.connecting:
            return
        try:
            settings = settings_from_form(self.form())
        except SettingsError as exc:
            self.show_error(str(exc), focus=_FIELDS.get(exc.field, "broker"))
            return
        if settings.mqtt_password is not None:
            self.post_message(self.Submitted(settings))
            return
        self.run_worker(self._submit_with_keyring(settings), group="login", exclusive=True)

    async def _submit_with_keyring(self, settings: Settings) -> None:
        """No password anywhere: the system keyring may hold one for this login and
        broker. Asked in a thread, since a keyring may wait for its unlock dialog."""
        password = await asyncio.to_thread(
            password_from_keyring, settings.mqtt_username, settings.broker.label
        )
        self.post_message(self.Submitted(replace(settings, password=password or None)))

    def action_cancel(self) -> None:
        if self.connecting:
            self.post_message(self.Cancelled())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.connecting
        if action == "save_profile":
            return self.defaults.config_path is not None and not self.connecting
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
