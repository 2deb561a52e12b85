"""The ``MQCHAT_*`` environment variables: one table of every name, what it sets and
what it is for. Only this module spells the names; the settings loader reads them
through it, and help texts and messages ask it for a name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ENV_VARS", "EnvVar", "env_name", "env_values", "parse_yes_no"]


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    """The variable, e.g. ``MQCHAT_BROKER``."""
    sets: str
    """What it sets: a field of the settings (``broker``) or of the command line
    (``config``, ``profile``)."""
    description: str
    """One line for the README and ``--help``."""


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("MQCHAT_BROKER", "broker", "broker URL (default mqtt://localhost:1883)"),
    EnvVar("MQCHAT_USER", "user", "chat user name; the MQTT login of sub, pub and inspect"),
    EnvVar("MQCHAT_PASSWORD", "password", "MQTT password (never read from a file of mqchat's)"),
    EnvVar("MQCHAT_NAME", "display_name", "display name shown to others"),
    EnvVar("MQCHAT_DATA_DIR", "data_dir", "folder of the histories and exports"),
    EnvVar("MQCHAT_NAMESPACE", "namespace", "first topic levels of the chat (default mqchat)"),
    EnvVar("MQCHAT_KEEPALIVE", "keepalive", "seconds between pings, 5 to 65535 (default 15)"),
    EnvVar(
        "MQCHAT_SESSION_EXPIRY",
        "session_expiry",
        "how long the broker keeps your messages: seconds, or e.g. 12h, 7d (default 7d)",
    ),
    EnvVar("MQCHAT_MQTT_VERSION", "mqtt_version", "5 or 3.1.1 (default: 5, else 3.1.1)"),
    EnvVar("MQCHAT_CAFILE", "cafile", "PEM file of the CA(s) to trust for mqtts:// and wss://"),
    EnvVar("MQCHAT_CERTFILE", "certfile", "PEM client certificate"),
    EnvVar("MQCHAT_KEYFILE", "keyfile", "PEM private key of the client certificate"),
    EnvVar("MQCHAT_INSECURE", "insecure", "1: do not check the broker's certificate (tests only)"),
    EnvVar("MQCHAT_CONFIG", "config", "the config file (default config.toml in the config folder)"),
    EnvVar("MQCHAT_PROFILE", "profile", "the profile to use (default: the file's default_profile)"),
)

_BY_SETTING = {var.sets: var for var in ENV_VARS}


def env_name(setting: str) -> str:
    """The variable that sets ``setting`` (``env_name("broker") == "MQCHAT_BROKER"``)."""
    return _BY_SETTING[setting].name


def env_values(environ: Mapping[str, str]) -> dict[str, str]:
    """What ``environ`` sets, by setting name; an empty variable sets nothing (as an
    unset one), so ``MQCHAT_BROKER=`` leaves the default."""
    found: dict[str, str] = {}
    for var in ENV_VARS:
        value = environ.get(var.name)
        if value:
            found[var.sets] = value
    return found


_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"", "0", "false", "no", "off"})


def parse_yes_no(text: str, name: str) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case). Raises
    :class:`ValueError` naming the variable."""
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"{name}={text!r} is neither yes (1, true, on) nor no (0, false, off)")
