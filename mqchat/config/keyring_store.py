"""Passwords in the system keyring, when the optional ``keyring`` package and a
keyring service are there (a desktop session usually has one; a server usually has
not). mqchat never writes a password to a file of its own: without a keyring the
password comes from the login form or ``MQCHAT_PASSWORD`` each time."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

__all__ = ["SERVICE", "keyring_available", "password_from_keyring", "save_to_keyring"]

SERVICE = "mqchat"
log = logging.getLogger(__name__)


def _keyring() -> ModuleType | None:
    try:
        module = importlib.import_module("keyring")
    except ImportError:
        return None
    try:
        backend = module.get_keyring()
    except Exception:  # a broken backend must not stop a login
        return None
    # keyring's "fail" backend (no service on this machine) has priority 0.
    return module if getattr(backend, "priority", 0) > 0 else None


def _account(user: str, broker_label: str) -> str:
    return f"{user}@{broker_label}"


def keyring_available() -> bool:
    return _keyring() is not None


def password_from_keyring(user: str, broker_label: str) -> str | None:
    """The stored password of ``user`` on ``broker_label`` (``host:port``), if any."""
    module = _keyring()
    if module is None or not user:
        return None
    try:
        password = module.get_password(SERVICE, _account(user, broker_label))
    except Exception as exc:  # a locked or broken keyring: ask instead
        log.warning("the keyring did not answer: %s", type(exc).__name__)
        return None
    return password if isinstance(password, str) and password else None


def save_to_keyring(user: str, broker_label: str, password: str) -> bool:
    """Store the password; ``False`` when there is no usable keyring."""
    module = _keyring()
    if module is None or not user or not password:
        return False
    try:
        module.set_password(SERVICE, _account(user, broker_label), password)
    except Exception as exc:
        log.warning("the keyring refused the password: %s", type(exc).__name__)
        return False
    return True
