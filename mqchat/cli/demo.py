"""``mqchat demo``: the first thing to run on a fresh machine. A private broker on a
free port, bots to chat with and a sensor for the inspector, and the TUI logged in
as ``you``; all of it stops when the TUI is closed."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mqchat.cli.base import EXIT_FAILED, Prepare, Prepared, UsageError, app_status
from mqchat.cli.bindings import keymap_from
from mqchat.config.loader import Layer, Origin, default_config_path
from mqchat.config.profiles import ConfigError, load_config

__all__ = ["DEMO_COMMANDS", "DEMO_USER", "add_demo_commands"]

DEMO_USER = "you"


def add_demo_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="try mqchat with nothing else running: a private broker, bots, a sensor",
        description="Start a private broker on a free port (mosquitto when installed, "
        "else the embedded one), two contacts driven by bots (Ada answers what you "
        "write; Ben comes and goes) and a sensor publishing home/room1/… readings, then "
        "open the TUI logged in as 'you'. Press i on the friends list for the inspector. "
        "Everything stops when you quit (ctrl+q).",
    )
    demo.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="keep the demo's histories here (default: a temporary folder, removed after)",
    )
    demo.add_argument(
        "--embedded",
        action="store_true",
        help="use the embedded Python broker even when mosquitto is installed",
    )


def _demo(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    # The demo's broker, user and bots are its own: neither a profile nor the
    # environment may point it elsewhere. Only the key bindings of the config apply.
    try:
        keymap = keymap_from(load_config(default_config_path(environ)))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return Prepared(lambda: _run_demo(args, keymap))


def _run_demo(args: argparse.Namespace, keymap: dict[str, str]) -> int:
    from mqchat.app import LoginDefaults, make_app
    from mqchat.chat.service import ChatService
    from mqchat.demo.bots import SENSOR_FILTER
    from mqchat.demo.world import DemoStartError, DemoWorld
    from mqchat.inspector.feed import InspectorFeed

    # The bots' notes ("… refused MQTT 5; using MQTT 3.1.1") are not for this screen.
    logging.getLogger("mqchat").addHandler(logging.NullHandler())
    keep = args.data_dir is not None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="mqchat-demo-"))
    world = DemoWorld(data_dir, DEMO_USER, embedded=args.embedded)
    saved: Path | None = None
    try:
        print("mqchat demo: starting a private broker and the bots…", file=sys.stderr)
        try:
            info = world.start()
        except DemoStartError as exc:
            print(f"mqchat demo: {exc}", file=sys.stderr)
            return EXIT_FAILED
        demo = Layer(
            Origin.FLAGS, broker=info.url, user=DEMO_USER, display_name="You", data_dir=data_dir
        )
        app = make_app(
            defaults=LoginDefaults.from_layers((demo,)),
            connect=ChatService,
            auto_login=True,
            inspector=InspectorFeed,
            inspector_filters=[SENSOR_FILTER],
            keymap=keymap,
        )
        app.run()
        status = app_status(app)
    finally:
        world.stop()
        if not keep:
            saved = keep_exports(data_dir / "exports", Path.cwd() / EXPORTS_KEPT)
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"mqchat demo: done; its {info.broker} broker at {info.url} stopped.", file=sys.stderr)
    if saved is not None:
        print(f"mqchat demo: your inspector exports are in {saved}", file=sys.stderr)
    return status


EXPORTS_KEPT = "mqchat-demo-exports"
"""Where, under the current folder, the inspector's exports go when a demo without
``--data-dir`` ends: its data dir is temporary, the user's exports are not."""


def keep_exports(exports: Path, dest: Path) -> Path | None:
    """Move the files of ``exports`` into ``dest`` (made if need be; a name already
    there gets a numbered twin), and return ``dest``, or ``None`` when there was
    nothing to keep. One line on stderr if they cannot be moved; never raises."""
    files = sorted(p for p in exports.glob("*") if p.is_file()) if exports.is_dir() else []
    if not files:
        return None
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for path in files:
            target = dest / path.name
            n = 1
            while target.exists():
                target = dest / f"{path.stem}-{n}{path.suffix}"
                n += 1
            shutil.move(path, target)
    except OSError as exc:
        print(f"mqchat demo: cannot keep the exports in {dest}: {exc}", file=sys.stderr)
        return None
    return dest


DEMO_COMMANDS: dict[str, Prepare] = {"demo": _demo}
