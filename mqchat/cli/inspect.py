"""``mqchat inspect``: the inspector on its own, on any topics of a broker, without a
chat login. Textual and the feed are imported only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mqchat.cli.base import EXIT_FAILED, Prepare, Prepared, UsageError, app_status
from mqchat.cli.bindings import keymap_from
from mqchat.cli.connect import command_layers, command_settings
from mqchat.cli.profile import chosen_profile
from mqchat.cli.tool_options import add_decoding_options, add_mqtt_options, checked, decoding_from
from mqchat.config.env import env_name
from mqchat.config.schema import Config
from mqchat.config.settings import Settings
from mqchat.config.watch_rules import WatchRule
from mqchat.core.text import display_safe
from mqchat.tools.rules import check_filter

if TYPE_CHECKING:
    from mqchat.inspector.codecs import Decoding
    from mqchat.inspector.watch_options import WatchOptions

__all__ = ["INSPECT_COMMANDS", "add_inspect_command", "watch_options"]


def add_inspect_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="the inspector on its own: watch any topics of a broker, no chat login",
        description="Subscribe to the FILTERs (default '#') and show every message: a topic "
        "tree, payload views, the live log; publish, clear retained messages, export JSON "
        "Lines. The login comes from the URL (mqtt://user@host) or --user, the password "
        f"from {env_name('password')}; anonymous otherwise.",
    )
    inspect.add_argument(
        "filters", nargs="*", metavar="FILTER", help="topic filter, e.g. 'home/#' (default '#')"
    )
    add_mqtt_options(inspect)
    inspect.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    inspect.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help=f"exports go to DIR/exports (env {env_name('data_dir')})",
    )
    add_decoding_options(inspect)
    inspect.add_argument(
        "--open",
        metavar="FILE",
        type=Path,
        help="browse a recording (mqchat record, or r in the inspector) offline, with a "
        "time scrubber; no broker is contacted",
    )


def _inspect(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    if args.open is not None and args.filters:
        raise UsageError("--open shows a recording; it takes no FILTER")
    filters = [checked(check_filter, f) for f in args.filters]
    chosen = chosen_profile(args, environ)
    layers = command_layers(args, environ, profile=chosen.profile)
    settings = command_settings(args, environ, chat_user=False, layers=layers)
    keymap = keymap_from(chosen.config)
    decoding = decoding_from(args)

    if args.open is not None:
        return Prepared(lambda: _open(args.open, settings, keymap, decoding), settings)

    def run() -> int:
        from mqchat.config.profiles import ConfigError, save_payload_format
        from mqchat.inspect_app import make_inspect_app
        from mqchat.inspector.codecs import Format
        from mqchat.inspector.feed import InspectorFeed
        from mqchat.mqtt.protocol import forced_protocol

        def remember(topic: str, fmt: str | None) -> str | None:
            try:
                save_payload_format(chosen.config.path, topic, fmt)
            except ConfigError as exc:
                return str(exc)
            return None

        formats = {t: Format.parse(f) for t, f in chosen.config.inspector.formats.items()}

        protocol = forced_protocol(settings)
        app = make_inspect_app(
            settings=settings,
            connect=lambda s: InspectorFeed(s, protocol=protocol),
            filters=filters,
            qos=args.qos,
            keymap=keymap,
            decoding=decoding,
            formats=formats,
            remember=remember,
            watch=watch_options(chosen.config),
            config_path=chosen.config.path,
        )
        app.run()
        return app_status(app)

    return Prepared(run, settings)


def watch_options(config: Config) -> WatchOptions:
    """The watch rules and the bell of ``config``'s ``[inspector]``, and the way to
    save a rule added or removed in the inspector back to its file. Imports the UI:
    call it when the TUI runs."""
    from mqchat.config.profiles import ConfigError, save_watch_rule
    from mqchat.inspector.watch_options import WatchOptions

    def save(rule: WatchRule, remove: bool) -> str | None:
        try:
            save_watch_rule(config.path, rule, remove=remove)
        except ConfigError as exc:
            return str(exc)
        return None

    return WatchOptions(rules=config.inspector.watch, bell=config.inspector.bell, save=save)


def _open(
    path: Path, settings: Settings, keymap: Mapping[str, str], decoding: Decoding | None
) -> int:
    """``inspect --open FILE``: one line and exit 1 when it is not a recording."""
    from mqchat.inspect_app import make_playback_app
    from mqchat.inspector.playback import load_playback
    from mqchat.inspector.recording import RecordingError

    try:
        playback = load_playback(path)
    except RecordingError as exc:
        print(f"mqchat: {display_safe(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    app = make_playback_app(playback, data_dir=settings.data_dir, keymap=keymap, decoding=decoding)
    app.run()
    return app_status(app)


INSPECT_COMMANDS: dict[str, Prepare] = {"inspect": _inspect}
