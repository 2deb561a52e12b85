"""What every mqchat command shares: its exit statuses, the error that means "bad
arguments", and its two stages: prepare (check the arguments, build the settings)
then run (connect, start the TUI)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from mqchat.config.settings import Settings

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "Prepare",
    "Prepared",
    "Run",
    "UsageError",
    "app_status",
    "positive_int",
    "positive_seconds",
    "sigterm_unwinds",
    "stdout_gone",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_TIMEOUT = 27  # mosquitto_sub's status when -W runs out before -C is reached
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for mosquitto_sub killed by SIGPIPE


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit 2. What the user
    typed may hold control characters (``--config $'\\n'``): they are shown escaped
    (``\\n``), so the message stays one line and cannot drive the terminal."""

    def __init__(self, message: str = "") -> None:
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in str(message)))


Run: TypeAlias = Callable[[], int]
"""A command ready to run: connects, starts the TUI…; returns the exit status."""


@dataclass(frozen=True)
class Prepared:
    """A command checked and ready: what runs it, and the settings it will use."""

    run: Run
    settings: Settings | None = None
    """``None`` for a command that does not connect, and for the login screen."""


Prepare: TypeAlias = Callable[[argparse.Namespace, Mapping[str, str]], Prepared]
"""A command's first stage: from its parsed arguments and the environment, check
everything and build its settings, without connecting, writing a file or starting
the TUI; raises :class:`UsageError`, else returns the :class:`Prepared` command."""


def app_status(app: Any) -> int:
    """The exit status of a Textual app that has returned: 1 when it stopped on an
    error (Textual printed it), else 0."""
    code = app.return_code
    return code if isinstance(code, int) else EXIT_OK


def stdout_gone() -> int:
    """The reader of our stdout left (``| head``): quietly stop, as mosquitto_sub dies
    of SIGPIPE, and keep the interpreter from complaining while it shuts down."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def positive_int(text: str) -> int:
    """An argument that is a whole number from 1 up (argparse's ``type=``)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 up, not {text!r}")
    return int(text)


def positive_seconds(text: str) -> float:
    """An argument that is a number of seconds above 0 (argparse's ``type=``)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 10**9:
        raise argparse.ArgumentTypeError(f"expected seconds above 0 (e.g. 5 or 0.5), not {text!r}")
    return value


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """SIGTERM (``timeout 5 mqchat sub …``) unwinds like an exception, so buffered
    output (or a recording's last frame) is written and the broker gets a DISCONNECT."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
