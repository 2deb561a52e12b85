"""Command line of mqchat: parses arguments, builds settings, and hands over to the TUI
or to a headless command. Nothing heavy is imported until a command needs it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mqchat import __version__
from mqchat.cli.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from mqchat.cli.broker_config import DEPLOY_COMMANDS, add_deploy_commands
from mqchat.cli.connect import (
    add_connection_security_options,
    check_tls_files,
    tls_and_version,
    warn_if_insecure,
    with_connection_options,
)
from mqchat.cli.demo import DEMO_COMMANDS, add_demo_commands
from mqchat.cli.profile import Chosen, add_profile_options, profile_applied
from mqchat.cli.serve import SERVE_COMMANDS, add_serve_commands
from mqchat.cli.tools import TOOL_COMMANDS, add_tool_commands
from mqchat.config.broker_url import DEFAULT_BROKER, BrokerUrlError
from mqchat.config.paths import default_data_dir
from mqchat.config.settings import (
    DEFAULT_SESSION_EXPIRY,
    Settings,
    broker_from_env,
    parse_session_expiry,
)
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe
from mqchat.core.topics import validate_namespace
from mqchat.core.wire import format_ts

if TYPE_CHECKING:
    from mqchat.core.model import ChatMessage

__all__ = ["UsageError", "main", "parse_duration"]


def _add_connection_options(p: argparse.ArgumentParser, *, user_required: bool) -> None:
    p.add_argument(
        "--broker",
        metavar="URL",
        help="broker URL mqtt[s]://host[:port] or ws[s]://host[:port][/path] "
        f"(env MQCHAT_BROKER; default {DEFAULT_BROKER})",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        required=user_required and not os.environ.get("MQCHAT_USER"),
        help="your user name: 1-32 of A-Z a-z 0-9 _ . - (env MQCHAT_USER)",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", type=Path, help="history folder (env MQCHAT_DATA_DIR)"
    )


def parse_duration(text: str) -> int:
    """``3600``, ``90m``, ``12h`` or ``7d`` as whole seconds (1 s to 2^32-1 s, the
    MQTT 5 limit). Raises :class:`UsageError` with the reason."""
    try:
        return parse_session_expiry(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _add_session_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--session-expiry",
        metavar="TIME",
        help="how long the broker keeps messages for you while you are away: seconds or "
        "e.g. 12h, 7d (env MQCHAT_SESSION_EXPIRY; default 7d)",
    )


def _session_expiry(args: argparse.Namespace) -> int:
    value = getattr(args, "session_expiry", None) or os.environ.get("MQCHAT_SESSION_EXPIRY")
    return parse_duration(value) if value else DEFAULT_SESSION_EXPIRY


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mqchat",
        description="Terminal chat over MQTT. Without a command: the TUI, at the login screen.",
        epilog="The MQTT password comes from MQCHAT_PASSWORD or the login form.",
    )
    parser.add_argument("--version", action="version", version=f"mqchat {__version__}")
    _add_connection_options(parser, user_required=False)
    add_connection_security_options(parser)
    parser.add_argument("--name", metavar="DISPLAY", help="display name shown to others")
    _add_session_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="the TUI, logged in directly")
    chat.add_argument("peer", nargs="?", metavar="PEER", help="open this conversation")
    _add_connection_options(chat, user_required=True)
    add_connection_security_options(chat)
    chat.add_argument("--name", metavar="DISPLAY", help="display name shown to others")
    _add_session_option(chat)

    send = sub.add_parser("send", help="send one message without a UI")
    send.add_argument("peer", metavar="PEER")
    send.add_argument("text", metavar="TEXT")
    _add_connection_options(send, user_required=True)
    add_connection_security_options(send)

    history = sub.add_parser("history", help="print a stored conversation, oldest first")
    history.add_argument("peer", metavar="PEER")
    _add_connection_options(history, user_required=True)
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    add_profile_options(history)
    add_tool_commands(sub)
    add_deploy_commands(sub)
    add_serve_commands(sub)
    add_demo_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        broker = broker_from_env(args.broker)
    except BrokerUrlError as exc:
        raise UsageError(str(exc)) from None
    user = args.user or os.environ.get("MQCHAT_USER") or ""
    try:
        validate_user_name(user)
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None
    name = getattr(args, "name", None) or os.environ.get("MQCHAT_NAME") or None
    return Settings(
        broker=broker,
        user=user,
        display_name=name,
        data_dir=args.data_dir or default_data_dir(),
        **_namespace_and_keepalive(),
    )


def _namespace_and_keepalive() -> dict[str, Any]:
    """``MQCHAT_NAMESPACE`` and ``MQCHAT_KEEPALIVE`` (a profile sets them too)."""
    found: dict[str, Any] = {}
    namespace = os.environ.get("MQCHAT_NAMESPACE")
    if namespace:
        try:
            found["namespace"] = validate_namespace(namespace)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    keepalive = os.environ.get("MQCHAT_KEEPALIVE")
    if keepalive:
        if not keepalive.isdigit() or not 5 <= int(keepalive) <= 65535:
            raise UsageError(f"the keepalive is 5 to 65535 seconds, not {keepalive!r}")
        found["keepalive"] = int(keepalive)
    return found


def _check_peer(peer: str, settings: Settings) -> str:
    try:
        validate_user_name(peer, what="peer name")
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None
    if peer == settings.user:
        raise UsageError("the peer is yourself; name somebody else")
    return peer


def _run_tui(args: argparse.Namespace, *, logged_in: bool, chosen: Chosen) -> int:
    from mqchat.app import LoginDefaults, make_app
    from mqchat.chat.service import ChatService
    from mqchat.inspector.feed import InspectorFeed
    from mqchat.mqtt.protocol import forced_protocol

    peer = None
    if logged_in:
        settings = with_connection_options(_settings(args), args)  # refuses a bad mix now
        if args.peer:
            peer = _check_peer(args.peer, settings)
        broker, user, data_dir = str(settings.broker), settings.user, settings.data_dir
        name = settings.display_name or ""
        tls, version = settings.tls, settings.mqtt_version
    else:
        broker = args.broker or os.environ.get("MQCHAT_BROKER") or DEFAULT_BROKER
        user = args.user or os.environ.get("MQCHAT_USER") or ""
        name = args.name or os.environ.get("MQCHAT_NAME") or ""
        data_dir = args.data_dir or default_data_dir()
        # The form shows where and who; TLS files, --insecure and the MQTT version
        # come from the command line, the environment or the profile, and join every
        # connection the TUI opens (a profile picked on the login screen replaces them).
        tls, version = tls_and_version(args)
        if tls.given:
            check_tls_files(tls)
    defaults = LoginDefaults(
        broker=broker,
        user=user,
        display_name=name,
        password=os.environ.get("MQCHAT_PASSWORD", ""),
        data_dir=data_dir,
        tls=tls,
        mqtt_version=version,
        session_expiry=_session_expiry(args),
        profiles=dict(chosen.config.profiles),
        profile=chosen.name,
        config_path=chosen.config.path,
        **_namespace_and_keepalive(),
    )

    def inspect(settings: Settings) -> InspectorFeed:
        return InspectorFeed(settings, protocol=forced_protocol(settings))

    app = make_app(
        defaults=defaults,
        connect=ChatService,
        auto_login=logged_in,
        open_peer=peer,
        inspector=inspect,
    )
    app.run()
    return EXIT_OK


def _send(args: argparse.Namespace) -> int:
    from mqchat.chat.backend import SendError
    from mqchat.tools.send import send_once

    settings = with_connection_options(_settings(args), args)
    peer = _check_peer(args.peer, settings)
    warn_if_insecure(settings)
    try:
        msg = asyncio.run(send_once(settings, peer, args.text))
    except SendError as exc:
        print(f"mqchat: not sent: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"sent {msg.id} to {peer}", file=sys.stderr)
    return EXIT_OK


def _history_line(msg: ChatMessage) -> str:
    local = msg.ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    mark = f" [{msg.state}]" if msg.outgoing else ""
    return f"{local}  {msg.sender}: {display_safe(msg.body)}{mark}"


def _history(args: argparse.Namespace) -> int:
    from mqchat.store import ChatStore

    settings = _settings(args)
    peer = _check_peer(args.peer, settings)
    path = settings.database
    if not path.exists():
        print(
            f"mqchat: no history for {settings.user} on {settings.broker.label} ({path})",
            file=sys.stderr,
        )
        return EXIT_FAILED

    async def load() -> list[ChatMessage]:
        store = await ChatStore.open(path)
        try:
            return await store.conversation(peer)
        finally:
            await store.close()

    for msg in asyncio.run(load()):
        if args.json:
            line = json.dumps(
                {
                    "id": msg.id,
                    "from": msg.sender,
                    "to": msg.recipient,
                    "ts": format_ts(msg.ts),
                    "body": msg.body,
                    "state": str(msg.state),
                    "direction": str(msg.direction),
                },
                ensure_ascii=False,
            )
        else:
            line = _history_line(msg)
        print(line)
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "send": _send,
    "history": _history,
    **TOOL_COMMANDS,
    **DEPLOY_COMMANDS,
    **SERVE_COMMANDS,
    **DEMO_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with profile_applied(argv) as chosen:
            args = build_parser().parse_args(argv)
            command = _COMMANDS.get(args.command or "")
            if command is not None:
                return command(args)
            return _run_tui(args, logged_in=args.command == "chat", chosen=chosen)
    except UsageError as exc:
        print(f"mqchat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
