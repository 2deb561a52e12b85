"""The sign-in form: broker URL, user name, display name and password. It validates
what it can before anything is sent and shows why a connection attempt failed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from mqchat.config.broker_url import DEFAULT_BROKER, BrokerUrlError, parse_broker_url
from mqchat.config.keyring_store import password_from_keyring, save_to_keyring
from mqchat.config.paths import default_data_dir
from mqchat.config.profiles import ConfigError, Profile, save_profile
from mqchat.config.settings import (
    DEFAULT_KEEPALIVE,
    DEFAULT_SESSION_EXPIRY,
    MqttVersion,
    Settings,
    parse_mqtt_version,
    parse_session_expiry,
)
from mqchat.config.tls_options import TlsOptions
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe
from mqchat.core.topics import DEFAULT_NAMESPACE, validate_namespace
from mqchat.screens.base import MqchatScreen
from mqchat.screens.login_profile import SaveProfileScreen
from mqchat.widgets.status_bar import StatusInfo

__all__ = ["LoginDefaults", "LoginScreen", "settings_from_form"]


@dataclass
class LoginDefaults:
    """What the login form is prefilled with (from flags, ``MQCHAT_*`` and the
    profile), and what a login takes along that the form does not show."""

    broker: str = "mqtt://localhost:1883"
    user: str = ""
    display_name: str = ""
    password: str = ""
    data_dir: Path | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    mqtt_version: MqttVersion | None = None
    namespace: str = DEFAULT_NAMESPACE
    keepalive: int = DEFAULT_KEEPALIVE
    session_expiry: int = DEFAULT_SESSION_EXPIRY
    profiles: dict[str, Profile] = field(default_factory=dict)
    """The config file's profiles, offered above the form."""
    profile: str | None = None
    """The profile in use, if any."""
    config_path: Path | None = None
    """Where a profile is saved (``ctrl+s``); ``None``: saving is off."""

    def with_profile(self, name: str) -> LoginDefaults:
        """The form filled from profile ``name`` (chosen on the login screen, it wins
        over what the command line said). Raises :class:`ValueError` saying which
        value of the profile is wrong."""
        p = self.profiles[name]
        tls = TlsOptions(
            cafile=_path(p.cafile),
            certfile=_path(p.certfile),
            keyfile=_path(p.keyfile),
            insecure=bool(p.insecure),
        )
        return replace(
            self,
            broker=p.broker or DEFAULT_BROKER,
            user=p.user or "",
            display_name=p.display_name or "",
            tls=tls,
            mqtt_version=parse_mqtt_version(p.mqtt_version) if p.mqtt_version else None,
            namespace=validate_namespace(p.namespace) if p.namespace else DEFAULT_NAMESPACE,
            keepalive=p.keepalive or DEFAULT_KEEPALIVE,
            session_expiry=(
                parse_session_expiry(p.session_expiry)
                if p.session_expiry
                else DEFAULT_SESSION_EXPIRY
            ),
            profile=name,
        )

    def as_profile(self) -> Profile:
        """What :meth:`with_profile` would give back: the form and the rest, without
        the password."""
        tls = self.tls
        return Profile(
            broker=self.broker.strip() or None,
            user=self.user.strip() or None,
            display_name=self.display_name.strip() or None,
            namespace=self.namespace if self.namespace != DEFAULT_NAMESPACE else None,
            mqtt_version=self.mqtt_version,
            keepalive=self.keepalive if self.keepalive != DEFAULT_KEEPALIVE else None,
            session_expiry=(
                str(self.session_expiry) if self.session_expiry != DEFAULT_SESSION_EXPIRY else None
            ),
            cafile=str(tls.cafile) if tls.cafile else None,
            certfile=str(tls.certfile) if tls.certfile else None,
            keyfile=str(tls.keyfile) if tls.keyfile else None,
            insecure=True if tls.insecure else None,
        ).without_password()


def _path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text else None


def settings_from_form(form: LoginDefaults) -> Settings:
    """Settings for a login, or :class:`InvalidUserName` / :class:`BrokerUrlError`
    with a sentence to show. Nothing is sent before this succeeds. Without a password
    in the form, one the system keyring holds for this user and broker is used."""
    user = validate_user_name(form.user.strip())
    broker = parse_broker_url(form.broker)
    password = form.password or None
    if password is None and not broker.password:
        password = password_from_keyring(broker.username or user, broker.label)
    return Settings(
        broker=broker,
        user=user,
        display_name=form.display_name.strip() or None,
        password=password,
        data_dir=form.data_dir or default_data_dir(),
        namespace=form.namespace,
        keepalive=form.keepalive,
        session_expiry=form.session_expiry,
        tls=form.tls if broker.tls else TlsOptions(),
        mqtt_version=form.mqtt_version,
    )


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
        with Vertical(id="login-box") as box:
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
        except ValueError as exc:
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
        profile = form.as_profile()
        try:
            save_profile(path, name, profile)
        except ConfigError as exc:
            self.show_error(str(exc), focus="broker")
            return
        self.defaults = replace(form, profiles={**form.profiles, name: profile}, profile=name)
        note = "the password is not saved: it is asked for, or read from MQCHAT_PASSWORD"
        if form.password:
            try:
                label = parse_broker_url(form.broker).label
            except BrokerUrlError:
                label = ""
            if label and save_to_keyring(form.user.strip(), label, form.password):
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
