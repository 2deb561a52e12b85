"""The shape of ``config.toml``, declared with msgspec: the keys of a profile and of
the file and their types, checked in one pass, with errors that name the file and the
key (``config.toml: profiles.work.keepalive: expected an integer, got "x"``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from mqchat.config.broker_url import BrokerUrlError, parse_broker_url
from mqchat.config.env import env_name
from mqchat.config.saved_publish import SavedPublish, check_saved_publishes
from mqchat.config.toml_shown import shown
from mqchat.config.watch_rules import WatchRule, check_watch_rule

__all__ = [
    "NOTIFY_WAYS",
    "PAYLOAD_FORMAT",
    "PROFILE_KEYS",
    "PROFILE_NAME",
    "UI_KEYS",
    "Config",
    "ConfigError",
    "Inspector",
    "Profile",
    "Ui",
    "check_config",
    "check_inspector",
    "check_profile",
    "check_ui",
    "toml_key",
    "validate_profile_name",
]

PROFILE_NAME = "1-32 of A-Z a-z 0-9 _ . -"
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(ValueError):
    """A config file that cannot be used, with the file, the key and the reason."""


class Profile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One named way to connect. Every key is optional: what is missing comes from
    the environment, flags or defaults. Never a password."""

    broker: str | None = None
    """A broker URL; its user info, if any, holds the user name only."""
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
        return msgspec.structs.replace(self, broker=_strip_password(self.broker))

    def values(self) -> dict[str, str | int | bool]:
        """The keys this profile sets, in the order of the schema."""
        found = {key: getattr(self, key) for key in PROFILE_KEYS}
        return {key: value for key, value in found.items() if value is not None}


PROFILE_KEYS: tuple[str, ...] = Profile.__struct_fields__

NOTIFY_WAYS = ("off", "bell", "osc9", "osc777")
"""How a message for another conversation reaches you while the terminal is not
focused: not at all, the terminal bell, or a desktop notification by OSC 9
(iTerm2, Windows Terminal, WezTerm, kitty) or OSC 777 (foot, Ghostty, urxvt)."""


class Ui(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[ui]``: how the TUI looks and tells you things."""

    theme: str | None = None
    """A Textual theme name (``textual-dark``, ``nord``…); ctrl+p changes and saves it."""
    notify: str = "off"
    """One of :data:`NOTIFY_WAYS`."""


UI_KEYS: tuple[str, ...] = Ui.__struct_fields__

PAYLOAD_FORMAT = re.compile(r"(?:msgpack|cbor|sparkplug|protobuf(?: [A-Za-z_][A-Za-z0-9_.]*)?)")
"""A payload format the inspector decodes a topic's payloads in: a codec, and for
Protobuf with a descriptor set the message type (``protobuf demo.Reading``)."""


class Inspector(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[inspector]``: what the inspector remembers between runs."""

    formats: dict[str, str] = msgspec.field(default_factory=dict)
    """``[inspector.formats]``: topic → the payload format ``f`` set for it."""
    bell: bool = True
    """The terminal bell rings on a watch rule's alert (``bell = false``: a toast only)."""
    watch: tuple[WatchRule, ...] = ()
    """``[[inspector.watch]]``: the watch rules, in the file's order."""
    publishes: dict[str, SavedPublish] = msgspec.field(default_factory=dict)
    """``[inspector.publishes]``: name → a publish saved to resend."""


INSPECTOR_KEYS: tuple[str, ...] = Inspector.__struct_fields__


class _InspectorTable(msgspec.Struct, forbid_unknown_fields=True):
    """``[inspector]`` as read; each format is checked on its own, to name its topic."""

    formats: dict[str, object] = msgspec.field(default_factory=dict)
    bell: bool = True
    watch: list[object] = msgspec.field(default_factory=list)
    publishes: dict[str, object] = msgspec.field(default_factory=dict)


class _File(msgspec.Struct, forbid_unknown_fields=True):
    """The top level; each profile and each key binding is checked on its own, so an
    error can name it (msgspec writes ``[...]`` for a key of a dict)."""

    default_profile: str | None = None
    profiles: dict[str, object] = msgspec.field(default_factory=dict)
    keys: dict[str, object] = msgspec.field(default_factory=dict)
    ui: dict[str, object] = msgspec.field(default_factory=dict)
    inspector: dict[str, object] = msgspec.field(default_factory=dict)


_FILE_KEYS: tuple[str, ...] = _File.__struct_fields__


@dataclass(frozen=True)
class Config:
    """What a config file holds (a missing file holds nothing)."""

    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    """``[keys]``: binding id → key(s), e.g. ``{"app.quit": "ctrl+x"}``."""
    ui: Ui = field(default_factory=Ui)
    """``[ui]``: theme and notifications."""
    inspector: Inspector = field(default_factory=Inspector)
    """``[inspector]``: payload formats set per topic, watch rules, the alerts' bell."""

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


def validate_profile_name(name: str) -> str:
    if not 0 < len(name) <= 32 or not set(name) <= _NAME_CHARS:
        raise ConfigError(f"a profile name is {PROFILE_NAME}, not {name!r}")
    return name


def toml_key(*parts: str) -> str:
    """``profiles.work.keepalive``; a part that is not a bare TOML key is quoted."""
    return ".".join(p if _BARE_KEY.fullmatch(p) else json.dumps(p) for p in parts)


def check_config(data: Mapping[str, Any], path: Path) -> Config:
    """``data`` (a parsed TOML document) as a :class:`Config`, or :class:`ConfigError`."""
    top = _convert(data, _File, path, (), _FILE_KEYS)
    profiles = {}
    for name, table in top.profiles.items():
        try:
            validate_profile_name(name)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {toml_key('profiles', name)}: {exc}") from None
        profiles[name] = check_profile(table, path, name)
    default = top.default_profile
    if default is not None and default not in profiles:
        known = ", ".join(profiles) or "none"
        raise ConfigError(
            f"{path}: default_profile {default!r} is not one of the profiles ({known})"
        )
    return Config(
        path,
        profiles,
        default,
        _key_bindings(top.keys, path),
        check_ui(top.ui, path),
        check_inspector(top.inspector, path),
    )


def check_inspector(table: object, path: Path) -> Inspector:
    """The ``[inspector]`` table as :class:`Inspector`, or :class:`ConfigError`."""
    read = _convert(table, _InspectorTable, path, ("inspector",), INSPECTOR_KEYS)
    formats: dict[str, str] = {}
    for topic, fmt in read.formats.items():
        if not isinstance(fmt, str) or not PAYLOAD_FORMAT.fullmatch(fmt):
            raise ConfigError(
                f"{path}: {toml_key('inspector', 'formats', topic)}: expected msgpack, cbor, "
                f"protobuf, protobuf TYPE or sparkplug, got {shown(fmt)}"
            )
        formats[topic] = fmt
    rules = []
    for index, rule in enumerate(read.watch):
        try:
            rules.append(check_watch_rule(rule))
        except ValueError as exc:
            raise ConfigError(f"{path}: [[inspector.watch]] #{index + 1}: {exc}") from None
    try:
        publishes = check_saved_publishes(read.publishes, path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Inspector(formats=formats, bell=read.bell, watch=tuple(rules), publishes=publishes)


def check_ui(table: object, path: Path) -> Ui:
    """The ``[ui]`` table as :class:`Ui`, or :class:`ConfigError`."""
    ui = _convert(table, Ui, path, ("ui",), UI_KEYS)
    if ui.notify not in NOTIFY_WAYS:
        raise ConfigError(
            f"{path}: {toml_key('ui', 'notify')}: expected one of {', '.join(NOTIFY_WAYS)}, "
            f"got {shown(ui.notify)}"
        )
    return ui


def check_profile(table: object, path: Path, name: str) -> Profile:
    """One ``[profiles.NAME]`` table as a :class:`Profile`, or :class:`ConfigError`."""
    where = ("profiles", name)
    if isinstance(table, Mapping) and "password" in table:
        raise ConfigError(
            f"{path}: {toml_key(*where, 'password')}: passwords do not belong in the config "
            f"file (mqchat asks for it, or reads {env_name('password')} or the system keyring)"
        )
    profile = _convert(table, Profile, path, where, PROFILE_KEYS)
    if profile.broker is not None:
        at = f"{path}: {toml_key(*where, 'broker')}"
        try:
            url = parse_broker_url(profile.broker)
        except BrokerUrlError as exc:
            raise ConfigError(f"{at}: {exc}") from None
        if url.password:
            raise ConfigError(
                f"{at}: the broker URL holds a password; remove it (mqchat asks for it, or "
                f"reads {env_name('password')})"
            )
    return profile


def _key_bindings(table: Mapping[str, object], path: Path) -> dict[str, str]:
    """``[keys]`` flattened: ``app.quit = "ctrl+x"`` (a dotted key, so a nested table)
    and ``"app.quit" = "ctrl+x"`` mean the same."""
    found: dict[str, str] = {}

    def walk(prefix: Sequence[str], value: object) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk([*prefix, str(key)], inner)
            return
        binding = ".".join(prefix)
        if not isinstance(value, str):
            raise ConfigError(
                f"{path}: {toml_key('keys', binding)}: expected a key such as "
                f'"ctrl+x", got {shown(value)}'
            )
        found[binding] = value

    for key, value in table.items():
        walk([key], value)
    return found


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.DOTALL)
_EXPECTED = re.compile(r"^Expected `(?P<types>[^`]*)`, got `[^`]*`")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`")
_TYPE_WORDS = {
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "object": "a table",
    "array": "an array",
    "float": "a number",
}


_T = TypeVar("_T")


def _convert(
    value: object, kind: type[_T], path: Path, where: Sequence[str], known: Iterable[str]
) -> _T:
    try:
        return msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(str(exc), value, path, where, known)) from None


def _explain(
    said: str, value: object, path: Path, where: Sequence[str], known: Iterable[str]
) -> str:
    """msgspec's ``Expected `int | null`, got `str` - at `$.keepalive``` in the words
    of a person editing the file, with the key and the value."""
    match = _AT.match(said)
    assert match is not None  # the pattern matches any text
    what = match["what"]
    inner = [part for part in (match["at"] or "").split(".") if part]
    location = toml_key(*where, *inner)
    prefix = f"{path}: {location}: " if location else f"{path}: "
    if expected := _EXPECTED.match(what):
        words = [_TYPE_WORDS.get(t, t) for t in expected["types"].split(" | ") if t != "null"]
        return f"{prefix}expected {' or '.join(words)}, got {shown(_lookup(value, inner))}"
    if unknown := _UNKNOWN.match(what):
        return f"{prefix}unknown key {unknown['key']!r} (known: {', '.join(known)})"
    return prefix + what[:1].lower() + what[1:]


def _lookup(value: object, keys: Sequence[str]) -> object:
    for key in keys:
        if not isinstance(value, Mapping):
            break
        value = value.get(key)
    return value


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
