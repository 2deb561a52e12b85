"""A named publish of the inspector, as ``config.toml`` keeps it under
``[inspector.publishes]`` (``P`` then ``f2`` saves one, ``p`` resends it):

    [inspector.publishes."lamp on"]
    topic = "home/lamp/set"
    payload = '{"on": true}'
    qos = 1
    retain = false
    content_type = "application/json"
    user_properties = "src=bench"
    expiry = 60

Only ``topic`` is required. The shape is checked here, each entry on its own so an
error names it; the topic and properties are checked again when it is sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec

__all__ = ["MAX_NAME", "SavedPublish", "check_saved_publishes", "validate_publish_name"]

MAX_NAME = 40
"""Characters of a saved publish's name at most."""
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class SavedPublish(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One entry of ``[inspector.publishes]``: the publish form's fields."""

    topic: str
    payload: str = ""
    qos: int = 0
    retain: bool = False
    content_type: str = ""
    user_properties: str = ""
    """``key=value, key=value``, as typed in the form."""
    expiry: int | None = None


_FIELDS = SavedPublish.__struct_fields__


def validate_publish_name(name: str) -> str:
    """``name`` stripped, or ``ValueError`` saying what a name may be."""
    name = name.strip()
    if not name:
        raise ValueError("give the publish a name")
    if len(name) > MAX_NAME or _UNSAFE.search(name):
        raise ValueError(f"a name is 1 to {MAX_NAME} characters without control characters")
    return name


def _key(name: str) -> str:
    quoted = name if _BARE_KEY.fullmatch(name) else json.dumps(name)
    return f"inspector.publishes.{quoted}"


def check_saved_publishes(table: object, path: Path) -> dict[str, SavedPublish]:
    """``[inspector.publishes]`` as name → :class:`SavedPublish`, or ``ValueError``
    naming the file, the entry and what is wrong (the caller makes it a
    ``ConfigError``)."""
    if not isinstance(table, dict):
        raise ValueError(f"{path}: inspector.publishes: expected a table")
    saved: dict[str, SavedPublish] = {}
    for name, entry in table.items():
        try:
            validate_publish_name(name)
            publish = msgspec.convert(entry, SavedPublish, strict=True)
        except ValueError as exc:  # msgspec.ValidationError is one
            said = str(exc)
            if "unknown field" in said.lower() or "object contains unknown" in said.lower():
                said += f" (known: {', '.join(_FIELDS)})"
            raise ValueError(f"{path}: {_key(name)}: {said}") from None
        if publish.qos not in (0, 1, 2):
            raise ValueError(f"{path}: {_key(name)}.qos: expected 0, 1 or 2, got {publish.qos}")
        saved[name] = publish
    return saved
