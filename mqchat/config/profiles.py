"""Named connection profiles in a TOML file (``config.toml`` in the platform's config
folder, or ``--config PATH``): where to connect and as whom, never a password.

    default_profile = "work"

    [profiles.work]
    broker = "mqtts://mq.example.com"
    user = "alice"
    display_name = "Alice"
    cafile = "/etc/ssl/company-ca.pem"
    mqtt_version = "5"
    keepalive = 30
    session_expiry = "7d"

A profile only supplies defaults: ``MQCHAT_*`` variables override it, and flags
override both. Reading and writing are pure file work here; the CLI and the login
screen decide what to do with a profile."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import platformdirs

from mqchat.config.broker_url import BrokerUrlError, parse_broker_url

__all__ = [
    "PROFILE_NAME",
    "Config",
    "ConfigError",
    "Profile",
    "default_config_path",
    "load_config",
    "save_profile",
    "validate_profile_name",
]

PROFILE_NAME = "1-32 of A-Z a-z 0-9 _ . -"
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


class ConfigError(ValueError):
    """A config file that cannot be used, with the file and the reason."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One named way to connect. Every field is optional: what is missing comes
    from the environment, flags or defaults."""

    broker: str | None = None
    """A broker URL; its user info, if any, keeps the user name only."""
    user: str | None = None
    display_name: str | None = None
    namespace: str | None = None
    mqtt_version: str | None = None
    keepalive: int | None = None
    session_expiry: str | None = None
    """Seconds, or ``90m``, ``12h``, ``7d``."""
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    insecure: bool | None = None

    def without_password(self) -> Profile:
        """This profile with any password taken out of the broker URL."""
        if not self.broker or "@" not in self.broker:
            return self
        return replace(self, broker=_strip_password(self.broker))


_TYPES: dict[str, type] = {"keepalive": int, "insecure": bool}
_FIELDS = tuple(f.name for f in fields(Profile))


@dataclass(frozen=True)
class Config:
    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None

    def profile(self, name: str | None) -> Profile:
        """The profile ``name``, else the default profile, else an empty one.
        Raises :class:`ConfigError` for a name the file does not have."""
        chosen = name or self.default_profile
        if chosen is None:
            return Profile()
        try:
            return self.profiles[chosen]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"{self.path}: no profile {chosen!r} (profiles: {known})") from None


def default_config_path() -> Path:
    """``MQCHAT_CONFIG``, else ``config.toml`` in the platform's config folder."""
    env = os.environ.get("MQCHAT_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("mqchat", appauthor=False)) / "config.toml"


def validate_profile_name(name: str) -> str:
    if not 0 < len(name) <= 32 or not set(name) <= _NAME_CHARS:
        raise ConfigError(f"a profile name is {PROFILE_NAME}, not {name!r}")
    return name


def load_config(path: Path) -> Config:
    """The profiles in ``path``; a missing file is an empty config. Raises
    :class:`ConfigError` naming the file and what is wrong in it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    profiles_table = data.get("profiles", {})
    if not isinstance(profiles_table, dict):
        raise ConfigError(f"{path}: 'profiles' must be a table ([profiles.NAME])")
    profiles = {}
    for name, table in profiles_table.items():
        try:
            validate_profile_name(str(name))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        profiles[str(name)] = _profile(path, str(name), table)
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or default not in profiles):
        raise ConfigError(f"{path}: default_profile {default!r} is not one of the profiles")
    return Config(path, profiles, default)


def _profile(path: Path, name: str, table: object) -> Profile:
    where = f"{path}: [profiles.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    if "password" in table:
        raise ConfigError(
            f"{where}: passwords do not belong in the config file (mqchat asks for it, "
            "or reads MQCHAT_PASSWORD or the system keyring)"
        )
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    values: dict[str, object] = {}
    for key, value in table.items():
        wanted = _TYPES.get(key, str)
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be a {wanted.__name__}, not {value!r}")
        values[key] = value
    profile = Profile(**values)  # type: ignore[arg-type]
    if profile.broker is not None:
        try:
            url = parse_broker_url(profile.broker)
        except BrokerUrlError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if url.password:
            raise ConfigError(
                f"{where}: the broker URL holds a password; remove it (mqchat asks for "
                "it, or reads MQCHAT_PASSWORD)"
            )
    return profile


def save_profile(path: Path, name: str, profile: Profile, *, make_default: bool = False) -> None:
    """Add or replace profile ``name`` in ``path`` (created with its folder), keeping
    the other profiles; never writes a password. Raises :class:`ConfigError`."""
    validate_profile_name(name)
    config = load_config(path)
    profiles = dict(config.profiles)
    clean = profile.without_password()
    values = {key: getattr(clean, key) for key in _FIELDS if getattr(clean, key) is not None}
    profiles[name] = _profile(path, name, values)  # what is saved must load again
    default = name if make_default else config.default_profile
    text = render_config(profiles, default)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # never a half-written config
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None


def render_config(profiles: Mapping[str, Profile], default: str | None) -> str:
    lines = ["# mqchat connection profiles (no passwords here: see the README)."]
    if default is not None:
        lines.append(f"default_profile = {_toml(default)}")
    for name, profile in profiles.items():
        lines += ["", f"[profiles.{_toml(name)}]"]
        for key in _FIELDS:
            value = getattr(profile, key)
            if value is not None:
                lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A TOML basic string is a JSON string, except that TOML has no \/ (json never
    # writes it) and wants control characters escaped (json does).
    return json.dumps(str(value), ensure_ascii=False)


def _strip_password(url: str) -> str:
    head, sep, rest = url.partition("://")
    if not sep:
        head, sep, rest = "", "", url
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return url
    userinfo, _, hostport = netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{hostport}" if user else hostport
    return f"{head}{sep}{netloc}{slash}{path}"
