"""``--config PATH`` and ``--profile NAME`` on the command line: a profile is read
before anything else and becomes the lowest layer of the settings, under the
``MQCHAT_*`` variables and the flags (file < env < flags). It is applied as the
variables it stands for, only where the environment has none, so every command keeps
one way of reading its settings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mqchat.cli.base import UsageError
from mqchat.config.profiles import Config, ConfigError, Profile, default_config_path, load_config

__all__ = ["PROFILE_ENV", "Chosen", "add_profile_options", "profile_applied", "profile_as_env"]

PROFILE_ENV = {
    "broker": "MQCHAT_BROKER",
    "user": "MQCHAT_USER",
    "display_name": "MQCHAT_NAME",
    "namespace": "MQCHAT_NAMESPACE",
    "mqtt_version": "MQCHAT_MQTT_VERSION",
    "keepalive": "MQCHAT_KEEPALIVE",
    "session_expiry": "MQCHAT_SESSION_EXPIRY",
    "cafile": "MQCHAT_CAFILE",
    "certfile": "MQCHAT_CERTFILE",
    "keyfile": "MQCHAT_KEYFILE",
    "insecure": "MQCHAT_INSECURE",
}
"""Profile field → the variable it fills."""


def add_profile_options(p: argparse.ArgumentParser) -> None:
    """``--config`` and ``--profile``, before or after the command name (they are read
    by :func:`profile_applied` before parsing; here they are only accepted)."""
    p.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        default=argparse.SUPPRESS,
        help="the profiles file (env MQCHAT_CONFIG; default config.toml in the "
        "platform's config folder)",
    )
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="connect as profile NAME of the config file (env MQCHAT_PROFILE; default: "
        "the file's default_profile)",
    )


def profile_as_env(profile: Profile) -> dict[str, str]:
    """The profile's fields as ``MQCHAT_*`` variables (unset fields left out)."""
    env: dict[str, str] = {}
    for key, variable in PROFILE_ENV.items():
        value = getattr(profile, key)
        if value is None:
            continue
        env[variable] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


def _pre_parse(argv: Sequence[str]) -> tuple[Path | None, str | None]:
    """``--config`` and ``--profile`` wherever they are, before the real parser (whose
    required options may depend on the profile)."""
    early = argparse.ArgumentParser(add_help=False)
    add_profile_options(early)
    known, _ = early.parse_known_args(list(argv))
    return getattr(known, "config", None), getattr(known, "profile", None)


@dataclass(frozen=True)
class Chosen:
    """The config file read and the profile in use (``None``: none)."""

    config: Config
    name: str | None


@contextmanager
def profile_applied(
    argv: Sequence[str], environ: MutableMapping[str, str] | None = None
) -> Iterator[Chosen]:
    """While inside: the chosen profile's values in ``environ`` (``os.environ``) where
    it has none; restored after. Yields what was chosen (for the login screen). Raises
    :class:`UsageError` for a config file or profile name that cannot be used."""
    env = os.environ if environ is None else environ
    path_flag, name_flag = _pre_parse(argv)
    path = path_flag.expanduser() if path_flag is not None else default_config_path()
    name = name_flag or env.get("MQCHAT_PROFILE") or None
    try:
        config = load_config(path)
        profile = config.profile(name)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if path_flag is not None and not path.exists():
        raise UsageError(f"{path}: no such config file")
    added = {k: v for k, v in profile_as_env(profile).items() if k not in env}
    env.update(added)
    try:
        yield Chosen(config, name or config.default_profile)
    finally:
        for key in added:
            env.pop(key, None)
