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

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import InlineTable, Table

from mqchat.config.private_files import make_private_dirs, write_private_text
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
from mqchat.config.watch_rules import WatchRule

__all__ = [
    "NEW_FILE_HEADER",
    "PROFILE_NAME",
    "Config",
    "ConfigError",
    "Profile",
    "load_config",
    "save_payload_format",
    "save_profile",
    "save_ui",
    "save_watch_rule",
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
    only with a text that loads back to the same profiles; it is 0600, and a folder
    made for it 0700. Raises :class:`ConfigError`."""
    validate_profile_name(name)
    text = _read(path) or ""
    before = check_config(_parse(text, path).unwrap(), path)
    clean = profile.without_password()
    check_profile(clean.values(), path, name)  # refuse it before touching the file
    wanted = {**before.profiles, name: clean}
    for candidate in _written(text, path, name, clean, make_default):
        try:
            after = check_config(_parse(candidate, path).unwrap(), path)
        except ConfigError:
            continue
        if (
            after.profiles == wanted
            and after.keys == before.keys
            and after.ui == before.ui
            and after.inspector == before.inspector
        ):
            _write_atomically(path, candidate)
            return
    raise ConfigError(f"{path}: profile {name!r} could not be written so that it loads back")


def save_ui(path: Path, key: str, value: str) -> None:
    """Set ``key`` of ``[ui]`` (``theme``, ``notify``) in ``path``, keeping everything
    else as it was, comments included, in the same safe way as :func:`save_profile`.
    Raises :class:`ConfigError`."""
    text = _read(path) or ""
    before = check_config(_parse(text, path).unwrap(), path)
    doc = _parse(text, path) if text.strip() else _new_document()
    ui: Any = doc.get("ui")
    if ui is None:
        doc["ui"] = {key: value}
    elif key in ui:
        ui[key] = value  # tomlkit keeps the line's comment
    else:
        _add_key(ui, key, value)
    candidate = doc.as_string()
    after = check_config(_parse(candidate, path).unwrap(), path)
    unchanged = (after.profiles, after.default_profile, after.keys, after.inspector)
    if getattr(after.ui, key) != value or unchanged != (
        before.profiles,
        before.default_profile,
        before.keys,
        before.inspector,
    ):
        raise ConfigError(f"{path}: ui.{key} could not be written so that it loads back")
    _write_atomically(path, candidate)


def save_payload_format(path: Path, topic: str, fmt: str | None) -> None:
    """Set (``fmt``) or remove (``None``) the payload format of ``topic`` in
    ``[inspector.formats]`` of ``path``, keeping everything else as it was, in the
    same safe way as :func:`save_profile`. Raises :class:`ConfigError`."""
    text = _read(path) or ""
    before = check_config(_parse(text, path).unwrap(), path)
    wanted = dict(before.inspector.formats)
    if fmt is None:
        if wanted.pop(topic, None) is None:
            return  # nothing saved for it: leave the file alone
    else:
        wanted[topic] = fmt
    doc = _parse(text, path) if text.strip() else _new_document()
    inspector: Any = doc.get("inspector")
    if inspector is None:
        doc["inspector"] = {"formats": {topic: fmt}}
    elif "formats" not in inspector:
        inspector["formats"] = {topic: fmt}
    elif fmt is None:
        del inspector["formats"][topic]
    elif topic in inspector["formats"]:
        inspector["formats"][topic] = fmt
    else:
        _add_key(inspector["formats"], topic, fmt)
    candidate = doc.as_string()
    after = check_config(_parse(candidate, path).unwrap(), path)
    if after.inspector.formats != wanted or (
        after.profiles,
        after.default_profile,
        after.keys,
        after.ui,
        after.inspector.watch,
        after.inspector.bell,
    ) != (
        before.profiles,
        before.default_profile,
        before.keys,
        before.ui,
        before.inspector.watch,
        before.inspector.bell,
    ):
        raise ConfigError(f"{path}: inspector.formats could not be written so that it loads back")
    _write_atomically(path, candidate)


def save_watch_rule(path: Path, rule: WatchRule, *, remove: bool = False) -> None:
    """Add ``rule`` as a ``[[inspector.watch]]`` table at the end of ``path`` (or,
    with ``remove``, take out the first table equal to it), every other rule and
    comment left as it was, in the same safe way as :func:`save_profile`. Raises
    :class:`ConfigError`."""
    text = _read(path) or ""
    before = check_config(_parse(text, path).unwrap(), path)
    wanted = list(before.inspector.watch)
    doc = _parse(text, path) if text.strip() else _new_document()
    inspector: Any = doc.get("inspector")
    if remove:
        if rule not in wanted:
            return  # gone already (edited out of the file meanwhile)
        index = wanted.index(rule)
        del wanted[index]
        if wanted:
            del inspector["watch"][index]
        else:
            del inspector["watch"]
    else:
        wanted.append(rule)
        table = tomlkit.table()
        table.update(rule.table())
        if inspector is None or "watch" not in inspector:
            rules = tomlkit.aot()
            rules.append(table)
            if inspector is None:
                doc["inspector"] = {"watch": rules}
            else:
                inspector["watch"] = rules
        else:
            inspector["watch"].append(table)
    candidate = doc.as_string()
    try:
        after = check_config(_parse(candidate, path).unwrap(), path)
    except ConfigError:
        after = None
    if (
        after is None
        or list(after.inspector.watch) != wanted
        or (
            after.profiles,
            after.default_profile,
            after.keys,
            after.ui,
            after.inspector.formats,
            after.inspector.bell,
        )
        != (
            before.profiles,
            before.default_profile,
            before.keys,
            before.ui,
            before.inspector.formats,
            before.inspector.bell,
        )
    ):
        raise ConfigError(f"{path}: inspector.watch could not be written so that it loads back")
    _write_atomically(path, candidate)


def _written(
    text: str, path: Path, name: str, profile: Profile, make_default: bool
) -> Iterator[str]:
    """The file with ``profile`` in it, best first: an existing table edited key by
    key (its comments stay); a new table added at the very end, so every byte before
    it stays as it was; else, in ``profiles = {…}`` (inline), one more entry."""
    doc = _parse(text, path) if text.strip() else _new_document()
    if make_default:
        doc["default_profile"] = name
    values = profile.values()
    profiles: Any = doc.get("profiles")
    if profiles is not None and name in profiles:
        table = profiles[name]
        for key in PROFILE_KEYS:
            if key not in values:
                table.pop(key, None)
            elif key in table:
                if table[key] != values[key]:
                    table[key] = values[key]  # tomlkit keeps the line's comment
            else:
                _add_key(table, key, values[key])
        yield doc.as_string()
        return
    base = doc.as_string()
    gap = (
        "" if not base.strip() or base.endswith("\n\n") else "\n" if base.endswith("\n") else "\n\n"
    )
    yield base + gap + tomlkit.dumps({"profiles": {name: values}})
    if isinstance(profiles, InlineTable):
        table = tomlkit.inline_table()
        table.update(values)
        profiles[name] = table
        yield doc.as_string()


def _add_key(table: Any, key: str, value: object) -> None:
    """A new key after the table's last key, not after the comments and blank lines
    that end it (those introduce whatever follows in the file)."""
    if isinstance(table, Table):
        body = table.value.body
        last = max((i for i, (k, _) in enumerate(body) if k is not None), default=-1)
        insert = getattr(table.value, "_insert_at", None)
        if last + 1 < len(body) and insert is not None:
            # tomlkit has no public way to insert before the end of a table; without
            # this private one the key goes at the end, still correct TOML.
            insert(last + 1, key, value)
            return
    table[key] = value


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


def _write_atomically(path: Path, text: str) -> None:
    try:
        make_private_dirs(path.parent)
        partial = path.with_name(path.name + ".partial")
        write_private_text(partial, text)  # 0600, and so is the file it replaces
        partial.replace(path)  # never a half-written config
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
