"""Command line of mqchat: parses arguments, builds settings, and hands over to the TUI
or to a headless command. Nothing heavy is imported until a command needs it."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mqchat import __version__
from mqchat.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Prepare,
    Prepared,
    UsageError,
    app_status,
    positive_int,
)
from mqchat.cli.bench import BENCH_COMMANDS, add_bench_command
from mqchat.cli.bindings import BINDINGS_COMMANDS, add_bindings_command, keymap_from
from mqchat.cli.broker_config import DEPLOY_COMMANDS, add_deploy_commands
from mqchat.cli.connect import (
    add_chat_options,
    add_connection_security_options,
    command_layers,
    command_options,
    command_settings,
    warn_if_insecure,
)
from mqchat.cli.crash import after_tui
from mqchat.cli.demo import DEMO_COMMANDS, add_demo_commands
from mqchat.cli.devices import DEVICES_COMMANDS, add_devices_arguments
from mqchat.cli.history import print_history, print_room_history, print_search
from mqchat.cli.inspect import INSPECT_COMMANDS, add_inspect_command, watch_options
from mqchat.cli.keys import KEYS_COMMANDS, add_keys_command
from mqchat.cli.probe import PROBE_COMMANDS, add_probe_command
from mqchat.cli.profile import add_profile_options, chosen_profile
from mqchat.cli.record import RECORD_COMMANDS, add_record_commands
from mqchat.cli.rooms import ROOM_COMMANDS, add_room_commands, send_to_room_command
from mqchat.cli.serve import SERVE_COMMANDS, add_serve_commands
from mqchat.cli.text_args import check_text_arguments
from mqchat.cli.tool_options import add_tool_commands
from mqchat.cli.tools import TOOL_COMMANDS
from mqchat.config.env import env_name
from mqchat.config.keyring_store import password_from_keyring
from mqchat.config.settings import Settings, parse_session_expiry
from mqchat.core.names import InvalidUserName, validate_user_name

if TYPE_CHECKING:
    from mqchat.inspector.backend import InspectorBackend

__all__ = ["UsageError", "main", "parse_duration", "prepare"]


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
        f"e.g. 12h, 7d (env {env_name('session_expiry')}; default 7d)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mqchat",
        description="Terminal chat over MQTT. Without a command: the TUI, at the login screen.",
        epilog=f"The MQTT password comes from {env_name('password')} or the login form.",
    )
    parser.add_argument("--version", action="version", version=f"mqchat {__version__}")
    add_chat_options(parser)
    add_connection_security_options(parser)
    parser.add_argument(
        "--name",
        metavar="DISPLAY",
        help=f"display name shown to others (env {env_name('display_name')})",
    )
    _add_session_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="the TUI, logged in directly")
    chat.add_argument("peer", nargs="?", metavar="PEER", help="open this conversation")
    add_chat_options(chat)
    add_connection_security_options(chat)
    chat.add_argument(
        "--name",
        metavar="DISPLAY",
        help=f"display name shown to others (env {env_name('display_name')})",
    )
    _add_session_option(chat)

    send = sub.add_parser("send", help="send one message without a UI")
    send.add_argument("peer", metavar="PEER", nargs="?", help="(not with --room)")
    send.add_argument("text", metavar="TEXT", nargs="?")
    send.add_argument("--room", metavar="NAME", help="send TEXT to this room instead")
    add_chat_options(send)
    add_connection_security_options(send)

    history = sub.add_parser("history", help="print a stored conversation, oldest first")
    history.add_argument("peer", metavar="PEER", nargs="?", help="(not with --room)")
    history.add_argument("--room", metavar="NAME", help="the room's conversation instead")
    add_chat_options(history)
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    add_profile_options(history)

    search = sub.add_parser(
        "search",
        help="find stored messages, newest first",
        description="Messages in which every word of TEXT starts a word, ignoring case "
        "and accents (pizz fri finds 'Pizza on Friday?'); quotes, * and other signs "
        "only separate words.",
    )
    search.add_argument("text", metavar="TEXT")
    search.add_argument(
        "--peer", metavar="PEER", dest="only_peer", help="only the conversation with PEER"
    )
    search.add_argument(
        "--limit", metavar="N", type=positive_int, default=100, help="at most N hits (100)"
    )
    add_chat_options(search)
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    add_profile_options(search)

    devices = sub.add_parser(
        "devices",
        help="list your devices (data dirs); forget one that is gone",
        description="Your devices as their records on the broker say: id, label, online "
        "or offline (lost: it went away without a goodbye), since when, and which is "
        "this data dir's. `forget DEVICE` discards an offline device's session at the "
        "broker (nothing more is queued for it) and clears its record.",
    )
    add_devices_arguments(devices)
    add_chat_options(devices)
    add_connection_security_options(devices)
    add_tool_commands(sub)
    add_record_commands(sub)
    add_probe_command(sub)
    add_bench_command(sub)
    add_inspect_command(sub)
    add_deploy_commands(sub)
    add_serve_commands(sub)
    add_demo_commands(sub)
    add_room_commands(sub)
    add_bindings_command(sub)
    add_keys_command(sub)
    return parser


def _check_peer(peer: str, settings: Settings) -> str:
    try:
        validate_user_name(peer, what="peer name")
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None
    if peer == settings.user:
        raise UsageError("the peer is yourself; name somebody else")
    return peer


def _prepare_tui(
    args: argparse.Namespace, environ: Mapping[str, str], *, logged_in: bool
) -> Prepared:
    chosen = chosen_profile(args, environ)
    layers = command_layers(args, environ, profile=chosen.profile)
    keymap = keymap_from(chosen.config)
    peer = None
    settings = None
    if logged_in:
        settings = command_settings(args, environ, layers=layers)  # refuses a bad mix now
        if args.peer:
            peer = _check_peer(args.peer, settings)
    else:
        # The form shows where and who and checks them itself; the rest (TLS files,
        # the MQTT version, the session expiry…) is refused now when it is wrong.
        command_options(layers)

    def run() -> int:
        # Loading the TUI and the chat creates hundreds of thousands of objects and
        # frees almost none: the collector's passes over them are wasted (about a
        # seventh of the start-up). They are set aside for good once loaded.
        gc.disable()
        # The screen is the TUI's: log records must not be printed over it (Python
        # prints them to stderr when no handler is set); trouble the user must know
        # of is shown on screen or, after a crash, in one line.
        logging.getLogger("mqchat").addHandler(logging.NullHandler())
        from mqchat.app import LoginDefaults, UiOptions, make_app
        from mqchat.chat.service import ChatService
        from mqchat.config.profiles import ConfigError, save_ui

        gc.freeze()
        gc.enable()

        password = None
        if settings is not None and settings.mqtt_password is None:
            # Before the TUI starts, so the keyring never blocks its event loop.
            password = password_from_keyring(settings.mqtt_username, settings.broker.label)
        defaults = LoginDefaults.from_layers(
            layers,
            password=password,
            profiles=dict(chosen.config.profiles),
            profile=chosen.name,
            config_path=chosen.config.path,
        )

        def inspect(settings: Settings) -> InspectorBackend:
            from mqchat.inspector.feed import InspectorFeed  # when the inspector opens
            from mqchat.mqtt.protocol import forced_protocol

            return InspectorFeed(settings, protocol=forced_protocol(settings))

        def save_theme(name: str) -> str | None:
            try:
                save_ui(chosen.config.path, "theme", name)
            except ConfigError as exc:
                return str(exc)
            return None

        ui = chosen.config.ui
        options = UiOptions(theme=ui.theme, notify=ui.notify, save_theme=save_theme)

        app = make_app(
            defaults=defaults,
            connect=ChatService,
            auto_login=logged_in,
            open_peer=peer,
            inspector=inspect,
            keymap=keymap,
            ui=options,
            inspector_watch=watch_options(chosen.config),
        )
        app.run()
        if getattr(app, "crash", None) is not None:  # one line; the traceback in a log
            data_dir = app.settings.data_dir if app.settings else command_options(layers).data_dir
            return after_tui(app.crash, data_dir)
        return app_status(app)

    return Prepared(run, settings)


def _send(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ)
    if args.room is not None:
        if args.text is not None or args.peer is None:
            raise UsageError("send --room NAME TEXT: one TEXT, no PEER")
        return Prepared(lambda: send_to_room_command(settings, args.room, args.peer), settings)
    if args.peer is None or args.text is None:
        raise UsageError("send: give PEER and TEXT (or --room NAME TEXT)")
    peer = _check_peer(args.peer, settings)

    def run() -> int:
        from mqchat.chat.backend import SendError
        from mqchat.tools.send import send_once

        warn_if_insecure(settings)
        try:
            msg = asyncio.run(send_once(settings, peer, args.text))
        except SendError as exc:
            print(f"mqchat: not sent: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"sent {msg.id} to {peer}", file=sys.stderr)
        return EXIT_OK

    return Prepared(run, settings)


def _history(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ, connects=False)
    if args.room is not None:
        if args.peer is not None:
            raise UsageError("history: PEER or --room NAME, not both")
        return Prepared(
            lambda: print_room_history(settings, args.room, as_json=args.json), settings
        )
    if args.peer is None:
        raise UsageError("history: whose? (mqchat history PEER, or --room NAME)")
    peer = _check_peer(args.peer, settings)
    return Prepared(lambda: print_history(settings, peer, as_json=args.json), settings)


def _search(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ, connects=False)
    peer = None if args.only_peer is None else _check_peer(args.only_peer, settings)

    def run() -> int:
        return print_search(settings, args.text, peer=peer, limit=args.limit, as_json=args.json)

    return Prepared(run, settings)


_COMMANDS: dict[str, Prepare] = {
    "send": _send,
    "history": _history,
    "search": _search,
    **DEVICES_COMMANDS,
    **TOOL_COMMANDS,
    **RECORD_COMMANDS,
    **PROBE_COMMANDS,
    **BENCH_COMMANDS,
    **INSPECT_COMMANDS,
    **DEPLOY_COMMANDS,
    **SERVE_COMMANDS,
    **DEMO_COMMANDS,
    **ROOM_COMMANDS,
    **KEYS_COMMANDS,
    **BINDINGS_COMMANDS,
}


def prepare(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> Prepared:
    """Parse ``argv`` and check everything the command will use: its text arguments,
    its settings (profile < ``environ`` < flags), TLS files, topics, ports. Nothing
    connects, no file is written and the TUI does not start until ``run`` of the
    result is called. Raises :class:`UsageError`; argparse exits itself (2 on a bad
    argument, 0 after ``--help``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_text_arguments(parser, args)
    command = _COMMANDS.get(args.command or "")
    if command is not None:
        return command(args, environ)
    return _prepare_tui(args, environ, logged_in=args.command == "chat")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return prepare(argv).run()
    except UsageError as exc:
        print(f"mqchat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
