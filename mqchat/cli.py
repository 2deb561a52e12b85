"""Command line of mqchat: parses arguments, builds settings, and hands over to the TUI
or to a headless command. Nothing heavy is imported until a command needs it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mqchat import __version__
from mqchat.broker_url import DEFAULT_BROKER, BrokerUrlError
from mqchat.cli_base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from mqchat.cli_tools import TOOL_COMMANDS, add_tool_commands
from mqchat.domain import InvalidUserName, display_safe, validate_user_name
from mqchat.envelope import format_ts
from mqchat.paths import default_data_dir
from mqchat.settings import DEFAULT_SESSION_EXPIRY, Settings, broker_from_env

if TYPE_CHECKING:
    from mqchat.domain import ChatMessage

__all__ = ["UsageError", "main", "parse_duration"]


def _add_connection_options(p: argparse.ArgumentParser, *, user_required: bool) -> None:
    p.add_argument(
        "--broker",
        metavar="URL",
        help=f"broker URL mqtt://host[:port] (env MQCHAT_BROKER; default {DEFAULT_BROKER})",
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


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``3600``, ``90m``, ``12h`` or ``7d`` as whole seconds (1 s to 2^32-1 s, the
    MQTT 5 limit). Raises :class:`UsageError` with the reason."""
    raw = text.strip().lower()
    unit = _UNITS.get(raw[-1:], 0)
    number = raw[:-1] if unit else raw
    if not number.isdigit():
        raise UsageError(f"not a duration: {text!r}; use seconds or e.g. 90m, 12h, 7d")
    seconds = int(number) * (unit or 1)
    if not 0 < seconds < 2**32:
        raise UsageError(f"the session expiry must be 1 s to 136 years, not {text!r}")
    return seconds


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
    parser.add_argument("--name", metavar="DISPLAY", help="display name shown to others")
    _add_session_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="the TUI, logged in directly")
    chat.add_argument("peer", nargs="?", metavar="PEER", help="open this conversation")
    _add_connection_options(chat, user_required=True)
    chat.add_argument("--name", metavar="DISPLAY", help="display name shown to others")
    _add_session_option(chat)

    send = sub.add_parser("send", help="send one message without a UI")
    send.add_argument("peer", metavar="PEER")
    send.add_argument("text", metavar="TEXT")
    _add_connection_options(send, user_required=True)

    history = sub.add_parser("history", help="print a stored conversation, oldest first")
    history.add_argument("peer", metavar="PEER")
    _add_connection_options(history, user_required=True)
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    add_tool_commands(sub)
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
    )


def _check_peer(peer: str, settings: Settings) -> str:
    try:
        validate_user_name(peer, what="peer name")
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None
    if peer == settings.user:
        raise UsageError("the peer is yourself; name somebody else")
    return peer


def _run_tui(args: argparse.Namespace, *, logged_in: bool) -> int:
    from mqchat.app import LoginDefaults, make_app
    from mqchat.service.chat import ChatService
    from mqchat.service.inspector_feed import InspectorFeed

    peer = None
    if logged_in:
        settings = _settings(args)
        if args.peer:
            peer = _check_peer(args.peer, settings)
        broker, user, data_dir = str(settings.broker), settings.user, settings.data_dir
        name = settings.display_name or ""
    else:
        broker = args.broker or os.environ.get("MQCHAT_BROKER") or DEFAULT_BROKER
        user = args.user or os.environ.get("MQCHAT_USER") or ""
        name = args.name or os.environ.get("MQCHAT_NAME") or ""
        data_dir = args.data_dir or default_data_dir()
    defaults = LoginDefaults(
        broker=broker,
        user=user,
        display_name=name,
        password=os.environ.get("MQCHAT_PASSWORD", ""),
        data_dir=data_dir,
    )
    expiry = _session_expiry(args)

    def connect(settings: Settings) -> ChatService:
        return ChatService(replace(settings, session_expiry=expiry))

    app = make_app(
        defaults=defaults,
        connect=connect,
        auto_login=logged_in,
        open_peer=peer,
        inspector=InspectorFeed,
    )
    app.run()
    return EXIT_OK


def _send(args: argparse.Namespace) -> int:
    from mqchat.backend import SendError
    from mqchat.service.oneshot import send_once

    settings = _settings(args)
    peer = _check_peer(args.peer, settings)
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
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        command = _COMMANDS.get(args.command or "")
        if command is not None:
            return command(args)
        return _run_tui(args, logged_in=args.command == "chat")
    except UsageError as exc:
        print(f"mqchat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
