"""``mqchat bench pub|sub``: an honest load lab. ``pub`` offers a load and measures
what arrived (it subscribes itself); ``sub`` measures what arrives from a ``bench pub``
elsewhere. The definitions of every figure are in the help and the README."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from mqchat.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    Prepare,
    Prepared,
    UsageError,
    positive_int,
    stdout_gone,
)
from mqchat.cli.connect import command_settings, warn_if_insecure
from mqchat.cli.tool_options import add_mqtt_options, checked
from mqchat.config.settings import Settings
from mqchat.core.text import display_safe
from mqchat.tools.rules import check_filter, check_topic

if TYPE_CHECKING:
    from mqchat.tools.bench import BenchPlan, SubPlan

__all__ = ["BENCH_COMMANDS", "add_bench_command"]

EXIT_INTERRUPTED = 130
_stopped_by: list[int] = []  # the signal that ended the run, if one did


@contextlib.contextmanager
def _terminate_reports() -> Iterator[None]:
    """SIGTERM (``timeout 60 mqchat bench pub -d 600``) ends the run as Ctrl+C does:
    the partial report is printed, and the exit status is 128 + the signal."""

    def stop(signum: int, _frame: object) -> None:
        _stopped_by.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted() -> int:
    return 128 + _stopped_by[-1] if _stopped_by else EXIT_INTERRUPTED


_DEFINITIONS = (
    "Definitions: sent = publishes complete at the publisher (written at QoS 0, "
    "acknowledged at QoS 1/2; a PUBACK is never counted as a delivery); lost = sent "
    "but not received by a subscriber before the drain ended (every message in, or "
    "nothing for --drain seconds); duplicated = a sequence number received again; out "
    "of order = received after a higher one of the same publisher; latency = receipt "
    "minus the send time in the payload, on this process's monotonic clock (so only "
    "when this process published); rates = a count over its own window: publish rate "
    "from the first publish to the last completion, received rate from the first "
    "publish to the last receipt."
)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 10**9:
        raise argparse.ArgumentTypeError(f"expected a number above 0, not {text!r}")
    return value


def add_bench_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser(
        "bench",
        help="load a broker and measure rates, latency and loss",
        description="pub: publish a load and measure what arrived; sub: measure what "
        "arrives from a `bench pub` elsewhere. " + _DEFINITIONS,
    )
    which = bench.add_subparsers(dest="bench", metavar="pub|sub", required=True)
    pub = which.add_parser(
        "pub",
        help="publish a load and report offered vs achieved rate, latency, integrity",
        description="Publish COUNT messages (or for SECONDS) of SIZE bytes from CLIENTS "
        "connections at RATE msg/s in all (or as fast as the connections take them), on "
        "PREFIX/RUN/CLIENT, and subscribe to PREFIX/RUN/# to count what arrives. Each "
        "payload carries the run id, the client, a sequence number and the send time. "
        + _DEFINITIONS
        + " Exit 0 with the report, 1 when the broker cannot be reached (or is lost: a "
        "partial report), 2 on bad arguments, 130 after Ctrl+C and 143 after SIGTERM "
        "(a partial report).",
    )
    add_mqtt_options(pub)
    amount = pub.add_mutually_exclusive_group()
    amount.add_argument(
        "-n", "--count", type=positive_int, metavar="COUNT", help="messages in all (1000)"
    )
    amount.add_argument(
        "-d", "--duration", type=_positive, metavar="SECONDS", help="publish for this long"
    )
    pub.add_argument(
        "-r", "--rate", type=_positive, metavar="RATE", help="offered msg/s, all clients (max)"
    )
    pub.add_argument(
        "-c", "--clients", type=positive_int, default=1, metavar="CLIENTS", help="default 1"
    )
    pub.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    pub.add_argument(
        "-s", "--size", type=positive_int, default=64, metavar="BYTES",
        help="payload size (64; at least the stamp, ~50 B)",
    )  # fmt: skip
    pub.add_argument(
        "--prefix", default="mqchat-bench", metavar="TOPIC", help="topic prefix (mqchat-bench)"
    )
    pub.add_argument(
        "--drain", type=_positive, default=2.0, metavar="SECONDS",
        help="after publishing, wait for the rest until nothing came for this long (2)",
    )  # fmt: skip
    pub.add_argument(
        "--slow-subscriber", type=_positive, metavar="RATE",
        help="add a subscriber that reads at most RATE msg/s: the broker must queue for "
        "it, and its queue limit (mosquitto max_queued_messages) shows as loss",
    )  # fmt: skip
    pub.add_argument(
        "--no-subscribe", action="store_true",
        help="publish only (measure with `bench sub` elsewhere); no delivery figures",
    )  # fmt: skip
    pub.add_argument("--json", action="store_true", help="one JSON object")

    sub = which.add_parser(
        "sub",
        help="measure what arrives: rate and the integrity of bench payloads",
        description="Subscribe to FILTER (default mqchat-bench/#) until COUNT messages, "
        "SECONDS or Ctrl+C, and report the received rate (messages - 1 over the first "
        "to the last receipt), and for each bench run seen: received, lost (the gaps in "
        "its sequence numbers: a loss at the very end cannot be seen here), duplicated, "
        "out of order. Foreign payloads are counted, not judged. No latency: the "
        "sender's clock is not this process's. Exit 0 with the report, 1 when the "
        "broker cannot be reached, 2 on bad arguments, 130 after Ctrl+C, 143 after "
        "SIGTERM (with the report).",
    )
    sub.add_argument("filters", nargs="*", metavar="FILTER")
    add_mqtt_options(sub)
    sub.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    sub.add_argument("-C", "--count", type=positive_int, metavar="COUNT", help="stop after")
    sub.add_argument("-W", "--timeout", type=_positive, metavar="SECONDS", help="stop after")
    sub.add_argument("--json", action="store_true", help="one JSON object")


def _bench(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ, chat_user=False)
    if args.bench == "pub":
        from mqchat.tools.bench import BenchPlan

        prefix = checked(check_topic, args.prefix.rstrip("/") or "/")
        from mqchat.core.bench import MAX_SEQ

        if args.count is not None and args.count > MAX_SEQ * args.clients:
            raise UsageError(f"--count: at most {MAX_SEQ:,} messages per client")
        if args.no_subscribe and args.slow_subscriber is not None:
            raise UsageError("--slow-subscriber subscribes: not with --no-subscribe")
        plan = BenchPlan(
            count=None if args.duration is not None else (args.count or 1000),
            duration=args.duration,
            rate=args.rate,
            clients=args.clients,
            qos=args.qos,
            size=args.size,
            prefix=prefix,
            drain=args.drain,
            subscribe=not args.no_subscribe,
            slow_rate=args.slow_subscriber,
        )
        return Prepared(lambda: _run_pub(settings, plan, as_json=args.json), settings)
    from mqchat.tools.bench import SubPlan

    filters = tuple(checked(check_filter, f) for f in args.filters) or ("mqchat-bench/#",)
    sub_plan = SubPlan(filters, qos=args.qos, count=args.count, timeout=args.timeout)
    return Prepared(lambda: _run_sub(settings, sub_plan, as_json=args.json), settings)


def _say(text: str) -> None:
    print(f"mqchat: {display_safe(text)}", file=sys.stderr)


def _emit(report: dict[str, object], *, as_json: bool) -> int:
    from mqchat.tools.bench_report import report_lines

    try:
        if as_json:
            print(json.dumps(report, ensure_ascii=False))
        else:
            print("\n".join(report_lines(report)))
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    if report["interrupted"]:
        return _interrupted()
    return EXIT_FAILED if report["lost_connection"] else EXIT_OK


def _run_pub(settings: Settings, plan: BenchPlan, *, as_json: bool) -> int:
    from mqchat.mqtt.errors import LinkError
    from mqchat.tools.bench import run_bench
    from mqchat.tools.bench_report import pub_report

    warn_if_insecure(settings)
    try:
        with _terminate_reports():
            result = run_bench(settings, plan, notice=_say)
    except LinkError as exc:
        _say(exc.reason)
        return EXIT_FAILED
    except KeyboardInterrupt:  # before the run began: nothing to report
        return _interrupted()
    return _emit(pub_report(result), as_json=as_json)


def _run_sub(settings: Settings, plan: SubPlan, *, as_json: bool) -> int:
    from mqchat.mqtt.errors import LinkError
    from mqchat.tools.bench import run_sub
    from mqchat.tools.bench_report import sub_report

    warn_if_insecure(settings)
    try:
        with _terminate_reports():
            result = run_sub(settings, plan, notice=_say)
        sys.stderr.flush()
    except LinkError as exc:
        _say(exc.reason)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return _interrupted()
    return _emit(sub_report(result), as_json=as_json)


BENCH_COMMANDS: dict[str, Prepare] = {"bench": _bench}
