"""Running the MQTT tools of the command line: ``sub``, ``pub``, ``clear-retained``
(modelled on mosquitto_sub/pub); their arguments are ``cli/tool_options.py``'s. Nothing
heavy is imported until one runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from mqchat.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    Prepare,
    Prepared,
    UsageError,
    sigterm_unwinds,
    stdout_gone,
)
from mqchat.cli.connect import command_settings, warn_if_insecure
from mqchat.cli.tool_options import checked, decoding_from
from mqchat.config.settings import Settings
from mqchat.tools.rules import (
    OutputFormat,
    RetainedFilter,
    check_filter,
    check_topic,
    terminal_safe,
)

if TYPE_CHECKING:
    from mqchat.mqtt.protocol import Protocol

__all__ = ["TOOL_COMMANDS"]


def _mqtt_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Settings for the MQTT-only commands: no chat user, no history. ``user`` holds
    the login used when the URL has none (``Settings.mqtt_username``); empty means
    anonymous."""
    return command_settings(args, environ, chat_user=False)


def _protocol(settings: Settings) -> Protocol | None:
    """The version asked for (flag, environment, profile); ``None``: 5, else 3.1.1."""
    from mqchat.mqtt.protocol import forced_protocol

    return forced_protocol(settings)


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
        with sigterm_unwinds():
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
        with sigterm_unwinds():
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
        with sigterm_unwinds():
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
