"""The MQTT tools of the command line: ``sub``, ``pub``, ``clear-retained`` (modelled
on mosquitto_sub/pub), and the options they share with ``inspect``. Nothing heavy is
imported until one runs."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from mqchat.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    Prepare,
    Prepared,
    UsageError,
    stdout_gone,
)
from mqchat.cli.connect import (
    add_connection_security_options,
    command_settings,
    warn_if_insecure,
)
from mqchat.config.broker_url import DEFAULT_BROKER
from mqchat.config.env import env_name
from mqchat.config.settings import Settings
from mqchat.core.text import safe_name
from mqchat.tools.rules import (
    OutputFormat,
    RetainedFilter,
    check_filter,
    check_topic,
    terminal_safe,
)

if TYPE_CHECKING:
    from mqchat.inspector.codecs import Decoding
    from mqchat.mqtt.protocol import Protocol

__all__ = [
    "TOOL_COMMANDS",
    "add_decoding_options",
    "add_mqtt_options",
    "add_tool_commands",
    "checked",
    "decoding_from",
]

PAYLOAD_FORMATS = ("json", "msgpack", "cbor", "protobuf", "sparkplug")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 up, not {text!r}")
    return int(text)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 10**9:
        raise argparse.ArgumentTypeError(f"expected seconds above 0 (e.g. 5 or 0.5), not {text!r}")
    return value


def add_mqtt_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--broker",
        metavar="URL",
        help="mqtt[s]://[user@]host[:port] or ws[s]://…[/path], no password: every user "
        f"of the machine sees a command line (env {env_name('broker')}, which may hold "
        f"one; default {DEFAULT_BROKER})",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        help=f"MQTT login when the URL has none (env {env_name('user')}; default "
        f"anonymous); the password comes from {env_name('password')}",
    )
    add_connection_security_options(p)


def add_decoding_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--descriptor",
        metavar="FILE",
        help="a compiled Protobuf descriptor set (protoc --include_imports "
        "--descriptor_set_out=FILE) to decode Protobuf payloads with",
    )
    p.add_argument(
        "--message",
        metavar="TYPE",
        help="the descriptor set's message type of the payloads, e.g. demo.Reading",
    )


def decoding_from(args: argparse.Namespace) -> Decoding | None:
    """The descriptor set and message type asked for, loaded; ``None`` without
    ``--descriptor``. A file that cannot be used, or a type it does not have, is a
    :class:`UsageError`."""
    if args.descriptor is None:
        if args.message is not None:
            raise UsageError("--message needs --descriptor FILE")
        return None
    from pathlib import Path

    from mqchat.inspector.codecs import CodecError, Decoding, load_descriptor_set

    try:
        schema = load_descriptor_set(Path(args.descriptor))
        if args.message is not None:
            schema.message_class(args.message)
    except CodecError as exc:  # one line, whatever the path or type name holds
        raise UsageError(safe_name(str(exc))) from None
    return Decoding(schema, args.message)


def add_tool_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "sub",
        help="print the messages of topic filters, like mosquitto_sub",
        description="Print messages as they arrive: the payload, `topic payload` (-v) or "
        "JSON lines (--json). Exit 0 after COUNT messages; with -W, exit 27 (as "
        "mosquitto_sub) if SECONDS pass before COUNT is reached, or 0 when no COUNT was "
        "asked for. Exit 1 when the broker cannot be reached, 2 on bad arguments.",
    )
    sub.add_argument("filters", nargs="+", metavar="FILTER", help="topic filter, e.g. 'home/#'")
    add_mqtt_options(sub)
    sub.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    sub.add_argument("-C", "--count", type=_positive_int, metavar="COUNT", help="exit after COUNT")
    sub.add_argument(
        "-W", "--timeout", type=_positive_seconds, metavar="SECONDS", help="exit after SECONDS"
    )
    shape = sub.add_mutually_exclusive_group()
    shape.add_argument("-v", "--verbose", action="store_true", help="print `topic payload`")
    shape.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: topic, payload (base64 when not UTF-8), qos, retain, ts",
    )
    which = sub.add_mutually_exclusive_group()
    which.add_argument(
        "--retained-only",
        action="store_true",
        help="only retained messages; exit at the first live one",
    )
    which.add_argument(
        "-R", "--no-retained", action="store_true", help="skip retained (stale) messages"
    )
    sub.add_argument(
        "--raw",
        action="store_true",
        help="write payloads byte for byte even to a terminal (pipes always get them so)",
    )
    sub.add_argument(
        "--format",
        choices=PAYLOAD_FORMATS,
        help="print each payload decoded, as one line of JSON ('[undecodable] why' when it "
        "is not in that format); protobuf without --descriptor shows field numbers",
    )
    add_decoding_options(sub)

    pub = commands.add_parser(
        "pub",
        help="publish a message, or one per line of stdin, like mosquitto_pub",
        description="Publish and exit 0 once the broker has every message (QoS 1/2: "
        "acknowledged). Exit 1 when the broker cannot be reached or refuses a message, "
        "2 on bad arguments.",
    )
    pub.add_argument("topic", metavar="TOPIC")
    pub.add_argument("payload", nargs="?", metavar="PAYLOAD", help="the message")
    add_mqtt_options(pub)
    pub.add_argument("-q", "--qos", type=int, choices=(0, 1, 2), default=0, help="default 0")
    pub.add_argument("-r", "--retain", action="store_true", help="retain the message")
    source = pub.add_mutually_exclusive_group()
    source.add_argument(
        "-n", "--null", action="store_true", help="an empty message (with -r: clears it)"
    )
    source.add_argument(
        "-l", "--stdin-line", action="store_true", help="one message per line of stdin"
    )
    source.add_argument("-s", "--stdin", action="store_true", help="all of stdin as one message")

    clear = commands.add_parser(
        "clear-retained",
        help="clear the retained messages under a topic filter",
        description="List the topics under FILTER that hold a retained message (stdout, "
        "one per line) and clear each with an empty retained message; a summary goes to "
        "stderr. Live traffic is never touched.",
    )
    clear.add_argument("filter", metavar="FILTER", help="e.g. 'home/#' or one topic")
    add_mqtt_options(clear)
    clear.add_argument("--dry-run", action="store_true", help="only list them")
    clear.add_argument(
        "--settle",
        type=_positive_seconds,
        default=0.5,
        metavar="SECONDS",
        help="retained messages are done once none came for this long (default 0.5)",
    )
    clear.add_argument(
        "-W",
        "--timeout",
        type=_positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="stop collecting after this long anyway (default 10)",
    )


def _mqtt_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Settings for the MQTT-only commands: no chat user, no history. ``user`` holds
    the login used when the URL has none (``Settings.mqtt_username``); empty means
    anonymous."""
    return command_settings(args, environ, chat_user=False)


def _protocol(settings: Settings) -> Protocol | None:
    """The version asked for (flag, environment, profile); ``None``: 5, else 3.1.1."""
    from mqchat.mqtt.protocol import forced_protocol

    return forced_protocol(settings)


def checked(check: Callable[[str], str], text: str) -> str:
    """``check(text)``, its :class:`ValueError` a :class:`UsageError`."""
    try:
        return check(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM (``timeout 5 mqchat sub …``) unwinds like an exception, so buffered
    output is written and the broker gets a DISCONNECT."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _say(text: str) -> None:
    print(f"mqchat: {text}", file=sys.stderr)


def _sub(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    filters = tuple(checked(check_filter, f) for f in args.filters)
    decode = _sub_decoder(args)
    settings = _mqtt_settings(args, environ)
    return Prepared(lambda: _run_sub(args, filters, settings, decode), settings)


def _sub_decoder(args: argparse.Namespace) -> Callable[[bytes], str] | None:
    """``--format`` (``--descriptor`` alone means protobuf) as a payload-to-line
    function; ``None`` without it, so the plain path imports no codec."""
    fmt = args.format
    if args.descriptor is not None and fmt is None:
        fmt = "protobuf"
    if fmt is None:
        decoding_from(args)  # --message without --descriptor is still an error
        return None
    if args.json:
        raise UsageError("--format prints the decoded payload; it does not go with --json")
    if args.descriptor is not None and fmt != "protobuf":
        raise UsageError(f"--descriptor decodes Protobuf; it does not go with --format {fmt}")
    decoding = decoding_from(args)
    if decoding is not None and decoding.message is None:
        raise UsageError(
            "--descriptor needs --message TYPE (the set has: "
            + ", ".join(decoding.schema.names[:8] if decoding.schema else ())
            + ")"
        )
    from mqchat.tools.formats import PayloadFormat, line_decoder

    return line_decoder(PayloadFormat(fmt), decoding)


def _run_sub(
    args: argparse.Namespace,
    filters: tuple[str, ...],
    settings: Settings,
    decode: Callable[[bytes], str] | None = None,
) -> int:
    from mqchat.mqtt.link import LinkError
    from mqchat.tools.sub import SubscribeEnd, SubscribeRequest, subscribe

    protocol = _protocol(settings)
    warn_if_insecure(settings)
    if args.json:
        output = OutputFormat.JSON
    else:
        output = OutputFormat.VERBOSE if args.verbose else OutputFormat.PAYLOAD
    if args.retained_only:
        retained = RetainedFilter.ONLY
    else:
        retained = RetainedFilter.SKIP if args.no_retained else RetainedFilter.ALL
    request = SubscribeRequest(
        filters=filters,
        qos=args.qos,
        count=args.count,
        timeout=args.timeout,
        output=output,
        retained=retained,
        safe=sys.stdout.isatty() and not args.raw,
        decode=decode,
    )
    try:
        with _sigterm_unwinds():
            result = subscribe(settings, request, sys.stdout.buffer, protocol=protocol, notice=_say)
    except LinkError as exc:
        _say(exc.reason)
        return EXIT_FAILED
    except BrokenPipeError:
        return stdout_gone()
    if result.end is SubscribeEnd.TIMEOUT and args.count is not None:
        _say(f"timed out after {args.timeout:g} s with {result.messages} of {args.count} messages")
        return EXIT_TIMEOUT
    return EXIT_OK


def _pub(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    topic = checked(check_topic, args.topic)
    given = (args.payload is not None) + args.null + args.stdin_line + args.stdin
    if given != 1:
        raise UsageError("give one message: PAYLOAD, -n/--null, -l/--stdin-line or -s/--stdin")
    settings = _mqtt_settings(args, environ)
    return Prepared(lambda: _run_pub(args, topic, settings), settings)


def _run_pub(args: argparse.Namespace, topic: str, settings: Settings) -> int:
    from mqchat.mqtt.link import LinkError
    from mqchat.tools.pub import PublishRequest, publish_lines, publish_payloads

    warn_if_insecure(settings)
    request = PublishRequest(topic=topic, qos=args.qos, retain=args.retain)
    try:
        with _sigterm_unwinds():
            # (the MQTT version asked for is in settings; notice: a QoS 2 lowered to 1)
            if args.stdin_line:
                result = publish_lines(settings, request, sys.stdin.fileno(), notice=_say)
            else:
                if args.stdin:
                    payload = sys.stdin.buffer.read()
                    if not payload:  # as mosquitto_pub -s: no retained message lost by mistake
                        raise UsageError("stdin was empty; an empty message is -n/--null")
                else:
                    # os.fsencode keeps the bytes of an argument that is not valid UTF-8
                    payload = b"" if args.null else os.fsencode(args.payload)
                result = publish_payloads(settings, request, [payload], notice=_say)
    except LinkError as exc:
        _say(exc.reason)
        return EXIT_FAILED
    if result.refused:
        _say(
            f"{settings.broker.label} refused {len(result.refused)} of {result.attempted} "
            f"messages to {topic!r}: {result.refused[0]}"
        )
    if result.lost:
        _say(f"{result.lost}; the broker has {result.sent} of {result.attempted} messages")
    return EXIT_FAILED if result.refused or result.lost else EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _clear_retained(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    topic_filter = checked(check_filter, args.filter)
    settings = _mqtt_settings(args, environ)
    return Prepared(lambda: _run_clear_retained(args, topic_filter, settings), settings)


def _run_clear_retained(args: argparse.Namespace, topic_filter: str, settings: Settings) -> int:
    from mqchat.mqtt.link import LinkError
    from mqchat.tools.clear_retained import ClearRequest, clear_retained

    protocol = _protocol(settings)
    warn_if_insecure(settings)
    safe = sys.stdout.isatty()
    out = sys.stdout.buffer

    def found(topic: str) -> None:
        line = topic.encode("utf-8") + b"\n"
        out.write(terminal_safe(line) if safe else line)
        out.flush()

    request = ClearRequest(
        topic_filter=topic_filter, dry_run=args.dry_run, settle=args.settle, timeout=args.timeout
    )
    try:
        with _sigterm_unwinds():
            result = clear_retained(settings, request, protocol=protocol, on_found=found)
    except LinkError as exc:
        _say(exc.reason)
        return EXIT_FAILED
    except BrokenPipeError:
        return stdout_gone()
    messages = _plural(len(result.found), "retained message")
    if args.dry_run:
        print(f"{messages} under {topic_filter!r}; dry run, nothing cleared", file=sys.stderr)
        return EXIT_OK
    print(
        f"cleared {_plural(result.cleared, 'retained message')} under {topic_filter!r}",
        file=sys.stderr,
    )
    status = EXIT_OK
    for topic, reason in result.refused.items():
        _say(f"{settings.broker.label} refused to clear {topic!r}: {reason}")
        status = EXIT_FAILED
    if result.remaining:
        _say(
            f"{_plural(len(result.remaining), 'topic')} still retained after "
            f"{request.passes} passes (is something publishing them again?)"
        )
        status = EXIT_FAILED
    return status


TOOL_COMMANDS: dict[str, Prepare] = {
    "sub": _sub,
    "pub": _pub,
    "clear-retained": _clear_retained,
}
