"""The arguments of ``sub``, ``pub`` and ``clear-retained``, and the options they share
with ``inspect`` and ``probe`` (broker and login, TLS, a Protobuf descriptor set). Apart
from running the tools (``cli/tools.py``) so that every command builds its parser from
the same definitions; nothing heavy is imported until a descriptor set is loaded."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from mqchat.cli.base import UsageError, positive_int, positive_seconds
from mqchat.cli.connect import add_connection_security_options
from mqchat.config.broker_url import DEFAULT_BROKER
from mqchat.config.env import env_name
from mqchat.core.text import safe_name

if TYPE_CHECKING:
    from mqchat.inspector.codecs import Decoding

__all__ = [
    "PAYLOAD_FORMATS",
    "add_decoding_options",
    "add_mqtt_options",
    "add_tool_commands",
    "checked",
    "decoding_from",
]

PAYLOAD_FORMATS = ("json", "msgpack", "cbor", "protobuf", "sparkplug")


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
    sub.add_argument("-C", "--count", type=positive_int, metavar="COUNT", help="exit after COUNT")
    sub.add_argument(
        "-W", "--timeout", type=positive_seconds, metavar="SECONDS", help="exit after SECONDS"
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
        type=positive_seconds,
        default=0.5,
        metavar="SECONDS",
        help="retained messages are done once none came for this long (default 0.5)",
    )
    clear.add_argument(
        "-W",
        "--timeout",
        type=positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="stop collecting after this long anyway (default 10)",
    )


def checked(check: Callable[[str], str], text: str) -> str:
    """``check(text)``, its :class:`ValueError` a :class:`UsageError`."""
    try:
        return check(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
