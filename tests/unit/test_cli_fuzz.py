"""The command line's first stage, fuzzed: any argv of the real commands and flags,
with odd text (lone surrogates, as bytes that are not UTF-8 arrive), huge numbers,
empty strings and URLs with odd ports and hosts, is either prepared or refused with
the CLI's own usage error (one line, exit 2) or argparse's exit 2 (0 for --help and
--version), never another exception, and what is prepared can be connected with.
Only :func:`mqchat.cli.main.prepare` runs: it neither connects nor writes nor starts
the TUI."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mqchat.cli.base import UsageError
from mqchat.cli.main import build_parser, prepare
from mqchat.config.paths import database_path
from mqchat.config.settings import Settings

# Nothing here exists: no config file is read, no data folder is touched.
ENVIRON = {
    "MQCHAT_CONFIG": "/nonexistent/mqchat-fuzz/config.toml",
    "MQCHAT_DATA_DIR": "/nonexistent/mqchat-fuzz/data",
}


@dataclass
class Command:
    """A command of the real parser: how many positionals it takes (at least, at
    most) and its options, each with whether it takes a value."""

    positionals: list[argparse.Action] = field(default_factory=list)
    options: dict[str, bool] = field(default_factory=dict)


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], Command]:
    """Each command (``("broker-config", "acl")``…) of the real parser; ``()`` is the
    TUI, no command."""
    found = {prefix: Command()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _commands(sub, (*prefix, name))
        elif action.option_strings:
            for option in action.option_strings:
                found[prefix].options[option] = action.nargs != 0
        else:
            found[prefix].positionals.append(action)
    return found


COMMANDS = _commands(build_parser())
GLOBAL = COMMANDS[()]

# What Python makes of argv: bytes decoded as UTF-8, each byte that is not as a lone
# surrogate (U+DC80-U+DCFF); never a NUL (the kernel ends an argument there).
_ANY_CHAR = st.characters(exclude_characters="\x00")
_argv_bytes = st.binary(max_size=12).map(lambda b: os.fsdecode(b.replace(b"\x00", b"")))
_odd_text = st.one_of(
    st.text(_ANY_CHAR, max_size=20),
    _argv_bytes,
    st.binary(max_size=4).map(lambda b: os.fsdecode(b"t/" + b.replace(b"\x00", b"") + b"\xff")),
    st.just(""),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-1", "65536", "99999999999999999999", "1e309", "nan", "7d", "3.1.1"]),
    st.sampled_from(["x" * 70_000, "é" * 40_000]),  # over MQTT's 65,535 bytes
)
_hosts = st.one_of(
    st.sampled_from(["127.0.0.1", "broker.example", "[::1]", "ä.example", "h.example."]),
    st.sampled_from(["[zz]", "", "a" * 64, ("a" * 60 + ".") * 5, "a b", "a..b", "\udcff"]),
    st.text(_ANY_CHAR, max_size=12),
    _argv_bytes,
)
_ports = st.one_of(
    st.sampled_from(["", ":1883", ":65535"]),
    st.sampled_from(["0", "-1", "65536", "x", "9" * 30, ""]).map(":".__add__),
)
_urls = st.builds(
    lambda scheme, user, host, port, path: f"{scheme}://{user}{host}{port}{path}",
    st.sampled_from(["mqtt", "mqtts", "ws", "wss", "tcp", "http", ""]),
    st.sampled_from(["", "", "alice@", "x" * 70_000 + "@", "alice:pw@", ":@", "a:p/w@"]),
    _hosts,
    _ports,
    st.one_of(st.just(""), st.text(_ANY_CHAR, max_size=6).map("/".__add__)),
)
_values = st.one_of(_odd_text, _urls)


_EXITS = frozenset({"-h", "--help", "--version"})  # print and exit 0: examples below
_NAMES = st.one_of(st.sampled_from(["alice", "bob", "a-b.c_d"]), _values)


@st.composite
def _option(draw: st.DrawFn, options: dict[str, bool]) -> list[str]:
    usable = sorted(set(options) - _EXITS)
    if not usable:
        return []
    option = draw(st.sampled_from(usable))
    value = st.one_of(_urls, _values) if option == "--broker" else _values
    return [option, draw(value)] if options[option] else [option]


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """A command with its positionals (most often as many as it takes), most often a
    user and a broker, other options, and now and then a stray word."""
    name = draw(st.sampled_from(sorted(COMMANDS)))
    command = COMMANDS[name]
    options = command.options  # after the command's name, only its own options count
    argv = [word for chunk in draw(st.lists(_option(GLOBAL.options), max_size=1)) for word in chunk]
    argv += name
    for action in command.positionals:
        wanted = 1 if action.nargs is None else draw(st.integers(0, 2))
        argv += draw(st.lists(_values, min_size=wanted, max_size=wanted))
    if "--user" in options and draw(st.integers(0, 4)):
        argv += ["--user", draw(_NAMES)]
    if "--broker" in options and draw(st.integers(0, 4)):
        argv += ["--broker", draw(_urls)]
    for chunk in draw(st.lists(_option(options), max_size=2)):
        argv += chunk
    if not draw(st.integers(0, 7)):
        argv.insert(draw(st.integers(0, len(argv))), draw(_values))
    return argv


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argvs())
@example(["send", "alice", "hi\udcff", "--user", "bob"])
@example(["send", "bob", "hi", "--user", "alice", "--broker", "mqtt://127.0.0.1:0"])
@example(["chat", "--user", "alice", "--broker", "mqtt://" + "a" * 64])
@example(["sub", "t", "--broker", "mqtt://alice:secret@h"])
@example(["--help"])
@example(["send", "--help"])
@example(["history", "", "--config", "\n"])  # a control character in a path: one line
@example(["--version"])
def test_argv_is_prepared_or_refused_never_a_traceback(argv: list[str]) -> None:
    check_prepared_or_refused(argv)


def check_prepared_or_refused(argv: list[str]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            prepared = prepare(argv, ENVIRON)
        except UsageError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        except SystemExit as exc:  # argparse: a bad argument, or --help / --version
            assert exc.code in (0, 2), out.getvalue()
            return
    # Prepared, never run (that would connect or start the TUI): what it will connect
    # with must then be usable, or the failure would only come later, as a traceback.
    if prepared.settings is not None:
        assert_connectable(prepared.settings)


def assert_connectable(settings: Settings) -> None:
    """What a connection and the history need of the settings: a port paho takes, a
    host name getaddrinfo can encode, a login MQTT can carry, a history folder name
    the file system takes."""
    broker = settings.broker
    assert 0 < broker.port < 65536
    if ":" not in broker.host:  # IPv6
        assert 0 < len(broker.host.encode("idna").rstrip(b".")) <= 253
    for text in (settings.mqtt_username, settings.mqtt_password, settings.display_name):
        assert text is None or len(text.encode("utf-8")) <= 65535
    broker.path.encode("utf-8")
    history = database_path(settings.data_dir, settings.broker, "alice")
    assert len(os.fsencode(history.parent.name)) <= 255


_WELL_FORMED = {
    ("send",): ["send", "bob", "hi"],
    ("history",): ["history", "bob"],
    ("chat",): ["chat"],
    ("sub",): ["sub", "t/#"],
    ("pub",): ["pub", "t", "x"],
    ("clear-retained",): ["clear-retained", "t/#"],
    ("inspect",): ["inspect"],
    ("probe",): ["probe"],
    ("bench", "pub"): ["bench", "pub"],
    ("bench", "sub"): ["bench", "sub"],
    (): [],
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_WELL_FORMED)),
    st.one_of(st.sampled_from(["alice", "a-b.c_d"]), _values),
    _urls,
    st.one_of(st.none(), _values),
)
def test_connection_values_are_checked_before_anything_runs(
    command: tuple[str, ...], user: str, url: str, name: str | None
) -> None:
    """Well-formed commands, so that the odd broker URL, user or display name is
    what gets checked."""
    argv = [*_WELL_FORMED[command], "--user", user, "--broker", url]
    if name is not None and "--name" in COMMANDS[command].options:
        argv += ["--name", name]
    check_prepared_or_refused(argv)
