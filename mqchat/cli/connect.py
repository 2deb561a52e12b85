"""The connection options every command that talks to a broker shares: TLS files,
``--insecure`` and ``--mqtt-version``, from flags over ``MQCHAT_*`` variables, checked
before anything is sent."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from mqchat.cli.base import UsageError
from mqchat.cli.profile import add_profile_options
from mqchat.config.settings import MqttVersion, Settings, parse_mqtt_version
from mqchat.config.tls_options import TlsOptions

__all__ = [
    "add_connection_security_options",
    "check_tls_files",
    "parse_flag",
    "tls_and_version",
    "warn_if_insecure",
    "with_connection_options",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


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
        "(env MQCHAT_CAFILE)",
    )
    tls.add_argument(
        "--certfile",
        metavar="FILE",
        type=Path,
        default=keep,
        help="client certificate, PEM (env MQCHAT_CERTFILE)",
    )
    tls.add_argument(
        "--keyfile",
        metavar="FILE",
        type=Path,
        default=keep,
        help="its private key, PEM, unencrypted (env MQCHAT_KEYFILE)",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        default=keep,
        help="do not check the broker's certificate nor its name: anyone on the way can "
        "pose as the broker. For throw-away test brokers only (env MQCHAT_INSECURE=1)",
    )
    p.add_argument(
        "-V",
        "--mqtt-version",
        metavar="VERSION",
        default=keep,
        help="5 or 3.1.1 (env MQCHAT_MQTT_VERSION; default: 5, and 3.1.1 if the broker refuses 5)",
    )


def parse_flag(text: str, name: str) -> bool:
    """A yes/no environment variable: 1/true/yes/on or 0/false/no/off (any case)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"{name}={text!r} is neither yes (1, true, on) nor no (0, false, off)")


def _path(args: argparse.Namespace, flag: str, env: Mapping[str, str]) -> Path | None:
    given = getattr(args, flag, None)
    if given is not None:
        return Path(given).expanduser()
    value = env.get(f"MQCHAT_{flag.upper()}")
    return Path(value).expanduser() if value else None


def tls_and_version(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> tuple[TlsOptions, MqttVersion | None]:
    """The TLS options and the MQTT version (``None``: 5 with fallback) from the
    flags, else the environment. Raises :class:`UsageError`."""
    env = os.environ if env is None else env
    insecure = getattr(args, "insecure", False) or parse_flag(
        env.get("MQCHAT_INSECURE", ""), "MQCHAT_INSECURE"
    )
    tls = TlsOptions(
        cafile=_path(args, "cafile", env),
        certfile=_path(args, "certfile", env),
        keyfile=_path(args, "keyfile", env),
        insecure=insecure,
    )
    version_text = getattr(args, "mqtt_version", None) or env.get("MQCHAT_MQTT_VERSION")
    try:
        version = parse_mqtt_version(version_text) if version_text else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return tls, version


def _flags_given(args: argparse.Namespace) -> list[str]:
    names = ("cafile", "certfile", "keyfile", "insecure")
    return [f"--{n}" for n in names if getattr(args, n, None)]


def check_tls_files(tls: TlsOptions) -> None:
    """Fail now, with the file and the reason, rather than at the first connection."""
    from mqchat.mqtt.tls import TlsSetupError, ssl_context

    try:
        ssl_context(tls)
    except TlsSetupError as exc:
        raise UsageError(str(exc)) from None


def with_connection_options(
    settings: Settings, args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> Settings:
    """``settings`` with the TLS options and MQTT version of ``args``/``env``. TLS flags
    with a plain ``mqtt://``/``ws://`` URL are an error (they would do nothing); the
    same from the environment are ignored there."""
    tls, version = tls_and_version(args, env)
    if settings.broker.tls:
        if tls.given:
            check_tls_files(tls)
    else:
        given = _flags_given(args)
        if given:
            need = "needs" if len(given) == 1 else "need"
            raise UsageError(
                f"{', '.join(given)} {need} a TLS broker URL (mqtts:// or wss://), not "
                f"{settings.broker.scheme}://"
            )
        tls = TlsOptions()
    return replace(settings, tls=tls, mqtt_version=version)


def warn_if_insecure(settings: Settings) -> None:
    """The one loud line a headless command prints before connecting with
    ``--insecure``: encrypted, but nobody checks who answers."""
    if settings.broker.tls and settings.tls.insecure:
        print(
            f"mqchat: warning: --insecure: the certificate of {settings.broker.label} is not "
            "checked; anyone on the network path can pose as the broker and read everything",
            file=sys.stderr,
        )
