"""``--config PATH`` and ``--profile NAME`` on the command line: which config file is
read and which of its profiles becomes the lowest layer of the settings, under the
environment and the flags (the loader does the layering)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from mqchat.cli.base import UsageError
from mqchat.config.env import env_name
from mqchat.config.loader import Chosen, choose_profile
from mqchat.config.profiles import ConfigError

__all__ = ["Chosen", "add_profile_options", "chosen_profile"]


def add_profile_options(p: argparse.ArgumentParser) -> None:
    """``--config`` and ``--profile``, before or after the command name (unset: no
    attribute, so one given before the command is not overwritten after it)."""
    p.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"the config file (env {env_name('config')}; default config.toml in the "
        "platform's config folder)",
    )
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help=f"connect as profile NAME of the config file (env {env_name('profile')}; "
        "default: the file's default_profile)",
    )


def chosen_profile(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Chosen:
    """The config file and profile the command line and ``environ`` ask for. Raises
    :class:`UsageError` for a config file or a profile name that cannot be used."""
    try:
        return choose_profile(
            getattr(args, "config", None), getattr(args, "profile", None), environ
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
