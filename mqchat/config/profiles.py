"""Named connection profiles in ``config.toml`` (the platform's config folder, or
``--config PATH``), read and written with tomlkit so that a save keeps the user's
comments, order and formatting. Where to connect and as whom, never a password:

    default_profile = "work"

    [profiles.work]
    broker = "mqtts://mq.example.com"
    user = "alice"
    cafile = "/etc/ssl/company-ca.pem"
    keepalive = 30
    session_expiry = "7d"

    [keys]
    "app.quit" = "ctrl+x"

A profile only supplies defaults: the settings loader puts ``MQCHAT_*`` variables and
flags over it. The keys and their types are in :mod:`mqchat.config.schema`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from mqchat.config.schema import (
    PROFILE_KEYS,
    PROFILE_NAME,
    Config,
    ConfigError,
    Profile,
    check_config,
    check_profile,
    validate_profile_name,
)

__all__ = [
    "NEW_FILE_HEADER",
    "PROFILE_NAME",
    "Config",
    "ConfigError",
    "Profile",
    "load_config",
    "save_profile",
    "validate_profile_name",
]

NEW_FILE_HEADER = "mqchat connection profiles (no passwords here: see the README)."


def load_config(path: Path) -> Config:
    """The profiles and key bindings in ``path``; a missing file is an empty config.
    Raises :class:`ConfigError` naming the file, the key and what is wrong."""
    text = _read(path)
    if text is None:
        return Config(path)
    return check_config(_parse(text, path).unwrap(), path)


def save_profile(path: Path, name: str, profile: Profile, *, make_default: bool = False) -> None:
    """Add or replace profile ``name`` in ``path`` (created with its folder), keeping
    everything else in the file as it was, comments included; never writes a
    password. The file is replaced in one step (``.partial``, then a rename), and
    only with a text that loads back to the same profiles. Raises
    :class:`ConfigError`."""
    validate_profile_name(name)
    text = _read(path)
    before = check_config(_parse(text, path).unwrap(), path) if text else Config(path)
    clean = profile.without_password()
    check_profile(clean.values(), path, name)  # refuse it before touching the file
    doc = _parse(text, path) if text else _new_document()
    _put_profile(doc, name, clean)
    if make_default:
        doc["default_profile"] = name
    new_text = tomlkit.dumps(doc)
    after = check_config(_parse(new_text, path).unwrap(), path)
    wanted = {**before.profiles, name: clean}
    if after.profiles != wanted or after.keys != before.keys:
        raise ConfigError(f"{path}: profile {name!r} could not be written so that it loads back")
    _write_atomically(path, new_text)


def _read(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 ({exc.reason})") from None


def _parse(text: str, path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _new_document() -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    doc.add(tomlkit.comment(NEW_FILE_HEADER))
    return doc


def _put_profile(doc: tomlkit.TOMLDocument, name: str, profile: Profile) -> None:
    """Write ``profile`` into ``doc``: an existing table is edited key by key (its
    comments stay), a new one goes after the last profile, a blank line apart."""
    values = profile.values()
    profiles: Any = doc.get("profiles")
    if profiles is not None and name in profiles:
        table = profiles[name]
        for key in PROFILE_KEYS:
            if key in values:
                if table.get(key) != values[key]:
                    table[key] = values[key]
            elif key in table:
                del table[key]
        return
    if profiles is None:
        doc["profiles"] = profiles = tomlkit.table(is_super_table=True)
    table = tomlkit.table()
    for key, value in values.items():
        table[key] = value
    before = doc.as_string()
    profiles[name] = table
    after = doc.as_string()
    # Spacing can only be decided once tomlkit has chosen the place: the text up to
    # there is left exactly as it was.
    pairs = enumerate(zip(before, after, strict=False))
    at = next((i for i, (old, new) in pairs if old != new), len(before))
    above = after[:at]
    if above.strip() and not above.endswith("\n\n"):
        table.trivia.indent = "\n"
    if at < len(before):  # more of the file follows the new table
        table.add(tomlkit.nl())


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # never a half-written config
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
