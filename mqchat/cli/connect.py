"""The options every command that talks to a broker shares (TLS files, ``--insecure``,
``--mqtt-version``, ``--config``/``--profile``), and the one way a command gets its
settings: the chosen profile, the environment and its flags, through the loader."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from mqchat.cli.base import UsageError
from mqchat.cli.profile import add_profile_options, chosen_profile
from mqchat.config.broker_url import DEFAULT_BROKER, has_password
from mqchat.config.env import env_name
from mqchat.config.loader import (
    Layer,
    Options,
    Origin,
    SettingsError,
    build_settings,
    connection_options,
    standard_layers,
)
from mqchat.config.profiles import Profile
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions

__all__ = [
    "add_chat_options",
    "add_connection_security_options",
    "check_tls_files",
    "command_layers",
    "command_options",
    "command_settings",
    "flags_layer",
    "warn_if_insecure",
]


def add_chat_options(p: argparse.ArgumentParser) -> None:
    """Where and who: --broker, --user, --data-dir."""
    p.add_argument(
        "--broker",
        metavar="URL",
        help="broker URL mqtt[s]://host[:port] or ws[s]://host[:port][/path] "
        f"(env {env_name('broker')}; default {DEFAULT_BROKER})",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        help=f"your user name: 1-32 of A-Z a-z 0-9 _ . - (env {env_name('user')})",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help=f"history folder (env {env_name('data_dir')})",
    )


def add_connection_security_options(p: argparse.ArgumentParser) -> None:
    """``--cafile``, ``--certfile``, ``--keyfile``, ``--insecure``, ``-V/--mqtt-version``.
    Unset flags leave no attribute (``SUPPRESS``), so one given before the command
    name (``mqchat --insecure chat``) is not overwritten by the command's default.
    ``--config``/``--profile`` come with them: a profile holds these too."""
    add_profile_options(p)
    tls = p.add_argument_group("TLS (mqtts:// and wss://)")
    keep = argparse.SUPPRESS
    tls.add_argument(
        "--cafile",
        metavar="FILE",
        type=Path,
        default=keep,
        help="trust the CA certificates in this PEM file instead of the system's "
        f"(env {env_name('cafile')})",
    )
    tls.add_argument(
        "--certfile",
        metavar="FILE",
        type=Path,
        default=keep,
        help=f"client certificate, PEM (env {env_name('certfile')})",
    )
    tls.add_argument(
        "--keyfile",
        metavar="FILE",
        type=Path,
        default=keep,
        help=f"its private key, PEM, unencrypted (env {env_name('keyfile')})",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        default=keep,
        help="do not check the broker's certificate nor its name: anyone on the way can "
        f"pose as the broker. For throw-away test brokers only (env {env_name('insecure')}=1)",
    )
    p.add_argument(
        "-V",
        "--mqtt-version",
        metavar="VERSION",
        default=keep,
        help=f"5 or 3.1.1 (env {env_name('mqtt_version')}; default: 5, and 3.1.1 if the "
        "broker refuses 5)",
    )


def _flag_path(args: argparse.Namespace, name: str) -> Path | None:
    given = getattr(args, name, None)
    return Path(given).expanduser() if given is not None else None


def flags_layer(args: argparse.Namespace) -> Layer:
    """What the command line said; a flag a command does not have says nothing.
    Raises :class:`UsageError` for a password in ``--broker``: every user of the
    machine can read a command line (``ps``)."""
    broker = getattr(args, "broker", None) or None
    if broker is not None and has_password(broker):
        raise UsageError(
            "--broker holds a password, which every user of this machine can read in "
            f"the process list; remove it and set {env_name('password')}, or save it in "
            "the system keyring from the login screen (the URL, --user or a profile may "
            "keep the user name)"
        )
    return Layer(
        Origin.FLAGS,
        broker=broker,
        user=getattr(args, "user", None) or None,
        display_name=getattr(args, "name", None) or None,
        data_dir=getattr(args, "data_dir", None),
        session_expiry=getattr(args, "session_expiry", None) or None,
        mqtt_version=getattr(args, "mqtt_version", None) or None,
        cafile=_flag_path(args, "cafile"),
        certfile=_flag_path(args, "certfile"),
        keyfile=_flag_path(args, "keyfile"),
        insecure=True if getattr(args, "insecure", False) else None,
    )


def command_layers(
    args: argparse.Namespace,
    environ: Mapping[str, str] = os.environ,
    profile: Profile | None = None,
) -> tuple[Layer, ...]:
    """The profile (``profile``, else the one ``--config``/``--profile`` choose), the
    environment and the flags, lowest first."""
    if profile is None:
        profile = chosen_profile(args, environ).profile
    return standard_layers(profile, environ, flags_layer(args))


def command_options(layers: tuple[Layer, ...]) -> Options:
    """The checked options of ``layers`` (TLS files included, when any are given).
    Raises :class:`UsageError`."""
    try:
        options = connection_options(layers)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if options.tls.given:
        check_tls_files(options.tls)
    return options


def command_settings(
    args: argparse.Namespace,
    environ: Mapping[str, str] = os.environ,
    *,
    chat_user: bool = True,
    connects: bool = True,
    layers: tuple[Layer, ...] | None = None,
) -> Settings:
    """The settings of a command: its profile < ``environ`` < its flags. ``chat_user``:
    the user must be a valid chat name (the MQTT tools only need a login, or none);
    ``connects``: TLS files are checked now, rather than at the first connection.
    Raises :class:`UsageError` (one line, exit 2)."""
    try:
        settings = build_settings(layers or command_layers(args, environ), chat_user=chat_user)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if connects and settings.tls.given:
        check_tls_files(settings.tls)
    return settings


def check_tls_files(tls: TlsOptions) -> None:
    """Fail now, with the file and the reason, rather than at the first connection."""
    from mqchat.mqtt.tls import TlsSetupError, ssl_context

    try:
        ssl_context(tls)
    except TlsSetupError as exc:
        raise UsageError(str(exc)) from None


def warn_if_insecure(settings: Settings) -> None:
    """The one loud line a headless command prints before connecting with
    ``--insecure``: encrypted, but nobody checks who answers."""
    if settings.broker.tls and settings.tls.insecure:
        print(
            f"mqchat: warning: --insecure: the certificate of {settings.broker.label} is not "
            "checked; anyone on the network path can pose as the broker and read everything",
            file=sys.stderr,
        )
