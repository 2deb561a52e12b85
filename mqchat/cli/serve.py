"""``mqchat serve``: a local broker to try mqchat on, until Ctrl+C (mqchat/broker/runner.py
starts it). Prints the URL to give ``mqchat --broker``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, Prepare, Prepared, UsageError
from mqchat.config.loader import SettingsError, connection_options, standard_layers
from mqchat.config.profiles import Profile

__all__ = ["SERVE_COMMANDS", "add_serve_commands"]


def add_serve_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run a local MQTT broker to try mqchat on",
        description="Run mosquitto with a generated configuration when it is installed, "
        "else (or with --embedded) the embedded Python broker, and print the URL to "
        "connect to. Ctrl+C or SIGTERM stop it (exit 0); exit 1 when it cannot start "
        "(e.g. the port is in use), 2 on bad arguments.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default "
        "127.0.0.1: this machine only; 0.0.0.0 for every interface)",
    )
    serve.add_argument(
        "--port",
        default="1883",
        metavar="N",
        help="port to listen on (default 1883; 0: any free port)",
    )
    serve.add_argument(
        "--embedded",
        action="store_true",
        help="the embedded Python broker (amqtt, MQTT 3.1.1) even when mosquitto is installed",
    )
    serve.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="where the broker keeps queued and retained messages across restarts "
        "(default: the broker folder of mqchat's data directory)",
    )


def _port(text: str) -> int:
    """Checked here rather than by argparse, so a bad value is one line on stderr."""
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) < 65536:
        raise UsageError(f"--port must be a port number from 0 to 65535, not {text!r}")
    return int(text)


async def _serve(host: str, port: int, embedded: bool, data_dir: Path) -> int:
    from mqchat.broker.runner import BrokerStartError, start_broker

    try:
        broker = await start_broker(host, port, embedded=embedded, data_dir=data_dir)
    except BrokerStartError as exc:
        print(f"mqchat: {exc}", file=sys.stderr)
        return EXIT_FAILED
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(f"mqchat: serving {broker.description}", file=sys.stderr)
        print(broker.url, flush=True)  # alone on stdout, for scripts
        print(
            f"connect with: mqchat --broker {broker.url}   (Ctrl+C stops the broker)",
            file=sys.stderr,
            flush=True,
        )
        stopping = asyncio.create_task(stop.wait())
        ended = asyncio.create_task(broker.wait_closed())
        await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopping, ended):
            task.cancel()
        if ended.done() and not ended.cancelled():
            print(f"mqchat: {ended.result()}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await broker.stop()
        print("mqchat: broker stopped", file=sys.stderr)


def _serve_command(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    port = _port(args.port)
    # The broker's folder is beside the histories: where the environment puts them.
    data_dir = args.data_dir or mqchat_data_dir(environ) / "broker"

    def run() -> int:
        with contextlib.suppress(KeyboardInterrupt):  # a Ctrl+C before the handlers are set
            return asyncio.run(_serve(args.host, port, args.embedded, data_dir))
        return EXIT_OK

    return Prepared(run)


def mqchat_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """mqchat's data folder, from the settings loader (no profile: a profile says
    where to connect, not where a local broker keeps its files)."""
    try:
        return connection_options(standard_layers(Profile(), environ)).data_dir
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


SERVE_COMMANDS: dict[str, Prepare] = {
    "serve": _serve_command,
}
