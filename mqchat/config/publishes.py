"""Saving and forgetting the inspector's named publishes in ``config.toml``
(``[inspector.publishes]``), with tomlkit, in the same safe way as a profile: the
rest of the file stays as it was, comments included, and the file is replaced in one
step only by a text that loads back with exactly that change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import tomlkit

from mqchat.config.profiles import _new_document, _parse, _read, _write_atomically
from mqchat.config.saved_publish import SavedPublish, validate_publish_name
from mqchat.config.schema import ConfigError, check_config

__all__ = ["forget_publish", "save_publish"]


def save_publish(path: Path, name: str, publish: SavedPublish) -> None:
    """Add or replace the publish ``name``. Raises :class:`ConfigError` (a bad name,
    a payload TOML cannot hold, a file that cannot be read or written)."""
    try:
        name = validate_publish_name(name)
        publish.payload.encode("utf-8")  # TOML is UTF-8: no lone surrogates
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    values = {k: v for k, v in msgspec.structs.asdict(publish).items() if v not in ("", None)}
    values.setdefault("payload", "")
    _change(path, name, values)


def forget_publish(path: Path, name: str) -> None:
    """Remove the publish ``name`` (nothing to do when it is not saved)."""
    _change(path, name, None)


def _change(path: Path, name: str, values: dict[str, Any] | None) -> None:
    text = _read(path) or ""
    before = check_config(_parse(text, path).unwrap(), path)
    wanted = dict(before.inspector.publishes)
    if values is None:
        if wanted.pop(name, None) is None:
            return
    else:
        wanted[name] = msgspec.convert(values, SavedPublish)
    doc = _parse(text, path) if text.strip() else _new_document()
    inspector: Any = doc.get("inspector")
    if inspector is None:
        doc["inspector"] = inspector = tomlkit.table()
    publishes: Any = inspector.get("publishes")
    if publishes is None:
        inspector["publishes"] = publishes = tomlkit.table(is_super_table=True)
    if values is None:
        del publishes[name]
    else:
        table = tomlkit.table()
        table.update(values)
        publishes[name] = table
    candidate = doc.as_string()
    after = check_config(_parse(candidate, path).unwrap(), path)
    same_rest = (after.profiles, after.default_profile, after.keys, after.ui) == (
        before.profiles,
        before.default_profile,
        before.keys,
        before.ui,
    )
    if (
        after.inspector.publishes != wanted
        or after.inspector.formats != before.inspector.formats
        or not same_rest
    ):
        raise ConfigError(f"{path}: inspector.publishes could not be written so that it loads back")
    _write_atomically(path, candidate)
