"""Settings built once: the chosen profile of the config file, under the ``MQCHAT_*``
environment, under the command line's flags (and, on the login screen, under the
form), merged into one frozen :class:`~mqchat.config.settings.Settings`. The
environment is a mapping passed in; it is read, never written."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

from mqchat.config.broker_url import DEFAULT_BROKER, BrokerUrlError, parse_broker_url
from mqchat.config.env import env_name, env_values, parse_yes_no
from mqchat.config.paths import default_data_dir
from mqchat.config.profiles import Config, ConfigError, Profile, load_config
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
from mqchat.core.topics import DEFAULT_NAMESPACE, validate_namespace

__all__ = [
    "Chosen",
    "Layer",
    "Options",
    "Origin",
    "SettingsError",
    "build_settings",
    "choose_profile",
    "connection_options",
    "default_config_path",
    "env_layer",
    "form_text",
    "load_settings",
    "picked_profile",
    "profile_layer",
    "standard_layers",
]


class SettingsError(ValueError):
    """A value that cannot be used, in one sentence; ``field`` names the setting
    (``user``, ``broker``, ``keepalive``…) so a form can point at it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Origin(enum.Enum):
    """Where a layer of settings comes from, lowest first."""

    FILE = "profile"
    ENV = "environment"
    FLAGS = "command line"
    PICKED = "profile picked on the login screen"
    FORM = "login form"


@dataclass(frozen=True)
class Layer:
    """What one source says; ``None``: nothing, the layer below decides. Values are
    as the source wrote them (``keepalive`` is ``"30"`` from the environment, ``30``
    from a profile) and are checked once a layer has won."""

    origin: Origin
    broker: str | None = None
    user: str | None = None
    display_name: str | None = None
    password: str | None = field(default=None, repr=False)
    data_dir: Path | None = None
    namespace: str | None = None
    keepalive: int | str | None = None
    session_expiry: str | None = None
    mqtt_version: str | None = None
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    insecure: bool | str | None = None


_LAYER_FIELDS = tuple(f.name for f in fields(Layer) if f.name != "origin")
_TLS_FLAGS = ("cafile", "certfile", "keyfile", "insecure")


def _path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text else None


def profile_layer(profile: Profile, origin: Origin = Origin.FILE) -> Layer:
    return Layer(
        origin,
        broker=profile.broker,
        user=profile.user,
        display_name=profile.display_name,
        namespace=profile.namespace,
        keepalive=profile.keepalive,
        session_expiry=profile.session_expiry,
        mqtt_version=profile.mqtt_version,
        cafile=_path(profile.cafile),
        certfile=_path(profile.certfile),
        keyfile=_path(profile.keyfile),
        insecure=profile.insecure,
    )


def env_layer(environ: Mapping[str, str]) -> Layer:
    """The ``MQCHAT_*`` variables of ``environ`` (only read)."""
    found = env_values(environ)
    paths = {k: _path(found.get(k)) for k in ("data_dir", "cafile", "certfile", "keyfile")}
    text = {k: found.get(k) for k in _LAYER_FIELDS if k not in paths}
    return Layer(Origin.ENV, **paths, **text)  # type: ignore[arg-type]


def standard_layers(
    profile: Profile, environ: Mapping[str, str], flags: Layer | None = None
) -> tuple[Layer, ...]:
    """Profile file < environment < flags."""
    return (profile_layer(profile), env_layer(environ), flags or Layer(Origin.FLAGS))


def picked_profile(layers: Sequence[Layer], profile: Profile) -> tuple[Layer, ...]:
    """``layers`` with ``profile`` in place of the file's: picked on the login screen,
    the latest word, so it goes over the environment and the flags for what it sets."""
    kept = tuple(layer for layer in layers if layer.origin not in (Origin.FILE, Origin.PICKED))
    return (*kept, profile_layer(profile, Origin.PICKED))


def _pick(layers: Sequence[Layer], name: str) -> tuple[object, Origin] | None:
    for layer in reversed(layers):
        value = getattr(layer, name)
        if value is not None:
            return value, layer.origin
    return None


def form_text(layers: Sequence[Layer], name: str) -> str:
    """What a field of the login form starts with (``""`` when nothing says)."""
    found = _pick(layers, name)
    if found is None:
        return DEFAULT_BROKER if name == "broker" else ""
    return str(found[0])


@dataclass(frozen=True)
class Options:
    """Everything but who and where, checked: what the login form does not show."""

    data_dir: Path
    namespace: str = DEFAULT_NAMESPACE
    keepalive: int = DEFAULT_KEEPALIVE
    session_expiry: int = DEFAULT_SESSION_EXPIRY
    mqtt_version: MqttVersion | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    """As asked for; a plain ``mqtt://`` connection leaves it out."""


def connection_options(layers: Sequence[Layer]) -> Options:
    """The checked :class:`Options` of ``layers``. Raises :class:`SettingsError`."""

    def value(name: str) -> object:
        found = _pick(layers, name)
        return None if found is None else found[0]

    data_dir = value("data_dir")
    namespace = str(value("namespace") or DEFAULT_NAMESPACE)
    try:
        validate_namespace(namespace)
    except ValueError as exc:
        raise SettingsError(str(exc), "namespace") from None
    version = value("mqtt_version")
    try:
        mqtt_version = parse_mqtt_version(str(version)) if version else None
    except ValueError as exc:
        raise SettingsError(str(exc), "mqtt_version") from None
    expiry = value("session_expiry")
    try:
        session_expiry = parse_session_expiry(str(expiry)) if expiry else DEFAULT_SESSION_EXPIRY
    except ValueError as exc:
        raise SettingsError(str(exc), "session_expiry") from None
    return Options(
        data_dir=data_dir if isinstance(data_dir, Path) else default_data_dir(),
        namespace=namespace,
        keepalive=_keepalive(value("keepalive")),
        session_expiry=session_expiry,
        mqtt_version=mqtt_version,
        tls=TlsOptions(
            cafile=_as_path(value("cafile")),
            certfile=_as_path(value("certfile")),
            keyfile=_as_path(value("keyfile")),
            insecure=_insecure(_pick(layers, "insecure")),
        ),
    )


def _as_path(value: object) -> Path | None:
    return value if isinstance(value, Path) else None


def _keepalive(value: object) -> int:
    if value is None:
        return DEFAULT_KEEPALIVE
    number = value if isinstance(value, int) else int(str(value)) if str(value).isdigit() else 0
    if not 5 <= number <= 65535:
        raise SettingsError(f"the keepalive is 5 to 65535 seconds, not {value!r}", "keepalive")
    return number


def _insecure(found: tuple[object, Origin] | None) -> bool:
    if found is None:
        return False
    value, origin = found
    if isinstance(value, bool):
        return value
    name = env_name("insecure") if origin is Origin.ENV else "insecure"
    try:
        return parse_yes_no(str(value), name)
    except ValueError as exc:
        raise SettingsError(str(exc), "insecure") from None


def build_settings(
    layers: Sequence[Layer], *, chat_user: bool = True, strict_tls_flags: bool = True
) -> Settings:
    """The :class:`Settings` of ``layers`` (lowest first). ``chat_user``: the user is
    a chat identity and must be a valid name (else it is only the MQTT login of the
    tools, possibly empty). ``strict_tls_flags``: TLS flags with a plain broker URL
    are an error (they would do nothing); the same from a profile or the environment
    are left out. Raises :class:`SettingsError`."""
    found = _pick(layers, "broker")
    try:
        broker = parse_broker_url(str(found[0]) if found else DEFAULT_BROKER)
    except BrokerUrlError as exc:
        raise SettingsError(str(exc), "broker") from None
    found = _pick(layers, "user")
    user = str(found[0]).strip() if found else ""
    if chat_user:
        if found is None:
            raise SettingsError(
                f"no user name: give --user NAME ({env_name('user')}, or a profile's user)",
                "user",
            )
        try:
            validate_user_name(user)
        except InvalidUserName as exc:
            raise SettingsError(str(exc), "user") from None
    options = connection_options(layers)
    tls = options.tls
    if not broker.tls:
        flags = next((layer for layer in layers if layer.origin is Origin.FLAGS), None)
        given = [f"--{n}" for n in _TLS_FLAGS if flags is not None and getattr(flags, n)]
        if given and strict_tls_flags:
            need = "needs" if len(given) == 1 else "need"
            raise SettingsError(
                f"{', '.join(given)} {need} a TLS broker URL (mqtts:// or wss://), not "
                f"{broker.scheme}://",
                "broker",
            )
        tls = TlsOptions()
    name = _pick(layers, "display_name")
    password = _pick(layers, "password")
    settings = Settings(
        broker=broker,
        user=user,
        display_name=(str(name[0]).strip() or None) if name else None,
        password=str(password[0]) if password else None,
        data_dir=options.data_dir,
        namespace=options.namespace,
        keepalive=options.keepalive,
        session_expiry=options.session_expiry,
        tls=tls,
        mqtt_version=options.mqtt_version,
    )
    _check_mqtt_text(settings.mqtt_username, "the MQTT user name", "user")
    _check_mqtt_text(settings.mqtt_password, "the password", "password")
    _check_mqtt_text(settings.display_name, "the display name", "display_name")
    return settings


_MQTT_STRING = 65535
"""The longest string MQTT carries (a two-byte length), in UTF-8 bytes."""


def _check_mqtt_text(text: str | None, what: str, field: str) -> None:
    """Refuse now what the connection could not send: text that is not UTF-8 (bytes
    from the environment or the command line that are not), or too long for MQTT."""
    if text is None:
        return
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise SettingsError(f"{what} is not valid UTF-8 text", field) from None
    if size > _MQTT_STRING:
        raise SettingsError(
            f"{what} is {size:,} bytes long; MQTT carries at most {_MQTT_STRING:,}", field
        )


def load_settings(
    flags: Layer | None = None,
    *,
    profile: Profile | None = None,
    environ: Mapping[str, str] = os.environ,
    chat_user: bool = True,
) -> Settings:
    """Profile < ``environ`` < flags, as one :class:`Settings`. Raises
    :class:`SettingsError`."""
    layers = standard_layers(profile or Profile(), environ, flags)
    return build_settings(layers, chat_user=chat_user)


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``MQCHAT_CONFIG``, else ``config.toml`` in the platform's config folder."""
    given = environ.get(env_name("config"))
    if given:
        return Path(given).expanduser()
    return Path(platformdirs.user_config_dir("mqchat", appauthor=False)) / "config.toml"


@dataclass(frozen=True)
class Chosen:
    """The config file read and the profile in use (``name`` ``None``: none)."""

    config: Config
    name: str | None

    @property
    def profile(self) -> Profile:
        return self.config.profile(self.name)


def choose_profile(
    config_path: Path | None, profile: str | None, environ: Mapping[str, str] = os.environ
) -> Chosen:
    """Read the config file (``--config``, else ``MQCHAT_CONFIG``, else the platform's)
    and pick the profile (``--profile``, else ``MQCHAT_PROFILE``, else the file's
    ``default_profile``). Raises :class:`ConfigError` naming the file."""
    path = config_path.expanduser() if config_path is not None else default_config_path(environ)
    name = profile or environ.get(env_name("profile")) or None
    config = load_config(path)
    config.profile(name)  # an unknown name is an error now, not at first use
    if config_path is not None and not path.exists():
        raise ConfigError(f"{path}: no such config file")
    return Chosen(config, name or config.default_profile)
