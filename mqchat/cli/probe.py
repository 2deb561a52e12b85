"""``mqchat probe [URL] [--json]``: what a broker supports, measured, as a table or
one JSON object. Exit 0 with the report, 1 (one line) when the broker cannot be
reached or refuses the login, 2 on bad arguments."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, Prepare, Prepared, UsageError, stdout_gone
from mqchat.cli.connect import command_settings, warn_if_insecure
from mqchat.cli.tool_options import add_mqtt_options
from mqchat.config.settings import Settings
from mqchat.core.text import display_safe

__all__ = ["PROBE_COMMANDS", "add_probe_command"]


def add_probe_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    probe = commands.add_parser(
        "probe",
        help="measure what a broker supports: MQTT 5, QoS, retain, wildcards, …",
        description="Try each capability on the broker, on topics under a random "
        "mqchat-probe/… prefix that are cleaned up afterwards: MQTT 5 or 3.1.1 only, "
        "maximum QoS, retained messages, wildcards, shared subscriptions, packet size, "
        "topic characters refused, $SYS, persistent sessions, Will delivery. What an "
        "MQTT 5 CONNACK says is shown beside what was seen. Exit 0 with the report, 1 "
        "when the broker cannot be reached, 2 on bad arguments.",
    )
    probe.add_argument("url", nargs="?", metavar="URL", help="the broker (or --broker)")
    add_mqtt_options(probe)
    probe.add_argument("--json", action="store_true", help="one JSON object")


def _probe(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    if args.url is not None:
        if args.broker is not None:
            raise UsageError("probe: give the broker as URL or --broker, not both")
        args.broker = args.url
    settings = command_settings(args, environ, chat_user=False)
    return Prepared(lambda: _run(settings, as_json=args.json), settings)


def _run(settings: Settings, *, as_json: bool) -> int:
    from mqchat.core.probe import report_object, report_table
    from mqchat.mqtt.errors import LinkError
    from mqchat.mqtt.probe import probe_broker

    warn_if_insecure(settings)
    try:
        report = probe_broker(settings)
    except LinkError as exc:
        print(f"mqchat: {display_safe(exc.reason)}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if as_json:
            print(json.dumps(report_object(report), ensure_ascii=False))
        else:
            width = shutil.get_terminal_size((100, 24)).columns
            print("\n".join(report_table(report, width=width)))
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    return EXIT_OK


PROBE_COMMANDS: dict[str, Prepare] = {"probe": _probe}
