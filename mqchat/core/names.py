"""User names: what can be a topic level of the scheme, and why a name is refused."""

from __future__ import annotations

import re

__all__ = [
    "MAX_USER_NAME",
    "InvalidUserName",
    "validate_user_name",
]


MAX_USER_NAME = 32
_USER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_VALID: set[str] = set()
"""Names found valid already (a chat checks the same few, several times a message)."""
_VALID_KEPT = 10_000


class InvalidUserName(ValueError):
    """A user name that cannot be a topic level of the scheme."""


def validate_user_name(name: str, *, what: str = "user name") -> str:
    """Return ``name`` if it is a valid user name, else raise :class:`InvalidUserName`
    with a sentence a person can act on."""
    if type(name) is str and name in _VALID:
        return name
    if not isinstance(name, str) or name == "":
        raise InvalidUserName(f"the {what} is empty")
    if _USER_NAME.fullmatch(name):
        if name.strip(".") == "":  # "." and ".." would name files like ..sqlite3
            raise InvalidUserName(
                f"the {what} {name!r} is only dots; use at least one of A-Z a-z 0-9 _ -"
            )
        if len(_VALID) < _VALID_KEPT:
            _VALID.add(name)
        return name
    if len(name) > MAX_USER_NAME:
        raise InvalidUserName(f"the {what} is longer than {MAX_USER_NAME} characters")
    bad = next(ch for ch in name if not _USER_NAME.fullmatch(ch))
    shown = {" ": "a space", "\x00": "a NUL byte", "/": "'/'", "+": "'+'", "#": "'#'"}.get(
        bad, repr(bad)
    )
    raise InvalidUserName(
        f"the {what} {name!r} contains {shown}; use 1-{MAX_USER_NAME} of A-Z a-z 0-9 _ . -"
    )
