"""``mqchat broker-config``: print the mosquitto ACL and mosquitto.conf of an mqchat
server (mqchat/broker/deploy_config.py renders them), to redirect into files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from mqchat.broker.deploy_config import (
    DEFAULT_ACL_FILE,
    DEFAULT_PASSWORD_FILE,
    MQTT_PORT,
    MQTTS_PORT,
    BrokerConfigError,
    ListenerTls,
    MosquittoConfig,
    render_acl,
    render_mosquitto_conf,
)
from mqchat.cli.base import EXIT_OK, Prepare, Prepared, UsageError
from mqchat.core.topics import DEFAULT_NAMESPACE

__all__ = ["DEPLOY_COMMANDS", "add_deploy_commands"]


def add_deploy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = commands.add_parser(
        "broker-config",
        help="print a mosquitto configuration for an mqchat server",
        description="Print, to redirect into files, the ACL that keeps users from sending "
        "as somebody else or reading another's inbox, and a complete mosquitto.conf "
        "using it. Exit 2 on bad arguments.",
    )
    what = deploy.add_subparsers(dest="broker_config", metavar="WHAT", required=True)
    acl = what.add_parser(
        "acl",
        help="the mosquitto ACL file",
        description="The mosquitto ACL for the namespace, each rule explained.",
    )
    _add_namespace_option(acl)

    conf = what.add_parser(
        "mosquitto",
        help="a complete mosquitto.conf",
        description="A commented mosquitto.conf (mosquitto 2.0+): a listener, logins from "
        "a password file, the ACL file, persistence, optional TLS and WebSockets.",
    )
    conf.add_argument(
        "--port",
        metavar="N",
        help=f"MQTT listener port (default {MQTT_PORT}, {MQTTS_PORT} with --tls)",
    )
    conf.add_argument("--bind", metavar="ADDR", help="listen on this address only (default: all)")
    conf.add_argument("--tls", action="store_true", help="TLS on every listener")
    conf.add_argument("--certfile", metavar="FILE", help="with --tls: server certificate")
    conf.add_argument("--keyfile", metavar="FILE", help="with --tls: its private key")
    conf.add_argument(
        "--require-certificate",
        action="store_true",
        help="with --tls: clients also need a certificate signed by the CA of --cafile",
    )
    conf.add_argument("--cafile", metavar="FILE", help="with --tls: CA of client certificates")
    conf.add_argument(
        "--websockets-port", metavar="N", help="also listen for MQTT over WebSockets on N"
    )
    conf.add_argument(
        "--password-file",
        metavar="PATH",
        default=DEFAULT_PASSWORD_FILE,
        help=f"made with mosquitto_passwd (default {DEFAULT_PASSWORD_FILE})",
    )
    conf.add_argument(
        "--acl-file",
        metavar="PATH",
        default=DEFAULT_ACL_FILE,
        help=f"made with `mqchat broker-config acl` (default {DEFAULT_ACL_FILE})",
    )
    _add_namespace_option(conf)


def _add_namespace_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--namespace",
        metavar="NS",
        default=DEFAULT_NAMESPACE,
        help=f"first topic levels of the chat (default {DEFAULT_NAMESPACE})",
    )


def _port(text: str | None, option: str) -> int | None:
    """Checked here rather than by argparse, so a bad value is one line on stderr."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise UsageError(f"{option} must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def _tls(args: argparse.Namespace) -> ListenerTls | None:
    options = {
        "--cafile": args.cafile,
        "--certfile": args.certfile,
        "--keyfile": args.keyfile,
        "--require-certificate": args.require_certificate,
    }
    if not args.tls:
        given = [option for option, value in options.items() if value]
        if given:
            raise UsageError(f"TLS options without --tls: {', '.join(given)}")
        return None
    missing = [option for option in ("--certfile", "--keyfile") if not options[option]]
    if missing:
        raise UsageError(f"--tls needs {', '.join(missing)}")
    if args.require_certificate and not args.cafile:
        raise UsageError("--require-certificate needs --cafile, the CA of the client certificates")
    return ListenerTls(
        certfile=args.certfile,
        keyfile=args.keyfile,
        cafile=args.cafile,
        require_certificate=args.require_certificate,
    )


def _broker_config(args: argparse.Namespace, _environ: Mapping[str, str]) -> Prepared:
    try:
        if args.broker_config == "acl":
            text = render_acl(args.namespace)
        else:
            config = MosquittoConfig(
                port=_port(args.port, "--port"),
                bind=args.bind,
                tls=_tls(args),
                websockets_port=_port(args.websockets_port, "--websockets-port"),
                password_file=args.password_file,
                acl_file=args.acl_file,
                namespace=args.namespace,
            )
            text = render_mosquitto_conf(config)
    except BrokerConfigError as exc:
        raise UsageError(str(exc)) from None

    def run() -> int:
        sys.stdout.write(text)
        return EXIT_OK

    return Prepared(run)


DEPLOY_COMMANDS: dict[str, Prepare] = {
    "broker-config": _broker_config,
}
