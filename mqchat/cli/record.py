"""``mqchat record`` and ``mqchat replay``: the flight recorder without a screen.
``record FILTER… --out FILE`` writes every message to a recording (docs/recording.md);
``replay FILE`` publishes one again with its timing. Nothing heavy is imported until
one runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from mqchat.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    Prepare,
    Prepared,
    UsageError,
    positive_int,
    positive_seconds,
    sigterm_unwinds,
)
from mqchat.cli.connect import command_settings, warn_if_insecure
from mqchat.cli.tool_options import add_mqtt_options, checked
from mqchat.core.text import display_safe
from mqchat.tools.rules import check_filter

__all__ = ["RECORD_COMMANDS", "add_record_commands", "parse_speed"]


def parse_speed(text: str) -> float | None:
    """``--speed``: times the recorded pace (``2``, ``0.5``); ``max`` or ``0``: as
    fast as the broker takes it (``None``)."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = -1.0
    if not 0 <= speed < 10**6:
        raise argparse.ArgumentTypeError(
            f"expected a speed like 1, 10 or 0.5, or max (0), not {text!r}"
        )
    return speed or None


def add_record_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rec = commands.add_parser(
        "record",
        help="record the messages of topic filters to a file (replay, inspect --open)",
        description="Subscribe like `mqchat sub` and write every message (topic, payload "
        "bytes, QoS, retain, MQTT 5 properties, arrival time) to FILE, a new file. Open it "
        "with `mqchat inspect --open FILE`, publish it again with `mqchat replay FILE`. "
        "Exit 0 after COUNT messages (or at -W without -C), 27 if -W runs out before "
        "COUNT, 1 when the broker cannot be reached or FILE cannot be made, 2 on bad "
        "arguments.",
    )
    rec.add_argument("filters", nargs="+", metavar="FILTER", help="topic filter, e.g. 'home/#'")
    rec.add_argument("-o", "--out", required=True, metavar="FILE", help="the recording to make")
    add_mqtt_options(rec)
    rec.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    rec.add_argument("-C", "--count", type=positive_int, metavar="COUNT", help="exit after COUNT")
    rec.add_argument(
        "-W", "--timeout", type=positive_seconds, metavar="SECONDS", help="exit after SECONDS"
    )

    play = commands.add_parser(
        "replay",
        help="publish a recording again, with its timing",
        description="Publish every message of FILE (a recording of `mqchat record` or the "
        "inspector's r) with its QoS, retain flag and MQTT 5 properties, spaced as they "
        "arrived. Exit 0 once the broker has every message, 1 when it cannot be reached, "
        "refuses a message or FILE is not a recording, 2 on bad arguments.",
    )
    play.add_argument("file", metavar="FILE", help="the recording")
    add_mqtt_options(play)
    play.add_argument(
        "--speed",
        type=parse_speed,
        default=1.0,
        metavar="X",
        help="times the recorded pace (default 1); 0 or max: as fast as possible",
    )
    play.add_argument(
        "--prefix", default="", metavar="P", help="publish under P/ (e.g. replay/) instead"
    )
    play.add_argument("--loop", action="store_true", help="start again at the end, until stopped")


def _say(text: str) -> None:
    print(f"mqchat: {display_safe(text)}", file=sys.stderr)


def _record(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    filters = tuple(checked(check_filter, f) for f in args.filters)
    out = Path(args.out)
    if out.exists():
        raise UsageError(f"{args.out} exists; a recording is never overwritten")
    settings = command_settings(args, environ, chat_user=False)

    def run() -> int:
        from mqchat.mqtt.errors import LinkError
        from mqchat.tools.record import RecordRequest, record
        from mqchat.tools.sub import SubscribeEnd

        warn_if_insecure(settings)
        request = RecordRequest(filters, out, args.qos, args.count, args.timeout)
        try:
            with sigterm_unwinds():
                result = record(settings, request, notice=_say)
        except LinkError as exc:
            _say(exc.reason)
            return EXIT_FAILED
        except OSError as exc:
            _say(f"cannot record to {out}: {exc.strerror or exc}")
            return EXIT_FAILED
        print(
            f"recorded {result.messages:,} messages to {display_safe(str(out))} "
            f"({result.bytes:,} bytes)",
            file=sys.stderr,
        )
        if result.end is SubscribeEnd.TIMEOUT and args.count is not None:
            _say(f"timed out after {args.timeout:g} s with {result.messages} of {args.count}")
            return EXIT_TIMEOUT
        return EXIT_OK

    return Prepared(run, settings)


def _replay(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    prefix = args.prefix
    if prefix:
        checked(check_filter, prefix.rstrip("/") or "/")
        if any(c in prefix for c in "+#"):
            raise UsageError(f"--prefix {prefix!r}: no wildcards in a topic")
    settings = command_settings(args, environ, chat_user=False)

    def run() -> int:
        from mqchat.inspector.recording import RecordingError
        from mqchat.mqtt.errors import LinkError
        from mqchat.tools.replay import ReplayRequest, replay

        warn_if_insecure(settings)
        request = ReplayRequest(Path(args.file), args.speed, prefix, args.loop)
        try:
            with sigterm_unwinds():
                result = replay(settings, request, notice=_say)
        except RecordingError as exc:
            _say(str(exc))
            return EXIT_FAILED
        except LinkError as exc:
            _say(exc.reason)
            return EXIT_FAILED
        if result.note:
            _say(result.note)
        rate = result.sent / result.seconds if result.seconds > 0 else 0.0
        print(
            f"replayed {result.sent:,} of {result.attempted:,} messages to "
            f"{settings.broker.label} in {result.seconds:.1f} s ({rate:,.0f} msg/s)"
            + (f"; {result.skipped:,} $ topics skipped" if result.skipped else ""),
            file=sys.stderr,
        )
        if result.refused:
            _say(f"the broker refused {len(result.refused)} messages: {result.refused[0]}")
        if result.lost:
            _say(result.lost)
        return EXIT_FAILED if result.refused or result.lost else EXIT_OK

    return Prepared(run, settings)


RECORD_COMMANDS: dict[str, Prepare] = {"record": _record, "replay": _replay}
