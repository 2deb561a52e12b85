"""Command-line arguments that are not text: bytes that are not UTF-8 come into
Python as lone surrogates (``$'hi\\xff'``) and would fail wherever they are encoded,
far from the command line. They are refused up front, naming the argument."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from mqchat.cli.base import UsageError

__all__ = ["BYTES_ARGUMENTS", "check_text_arguments"]

BYTES_ARGUMENTS = frozenset({"payload"})
"""Arguments taken as bytes (``mqchat pub TOPIC PAYLOAD`` sends them as given)."""


def _names(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    """Each argument's ``dest`` and how the help names it (``--user``, ``TEXT``), in
    ``parser`` and its subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _names(sub)
        elif action.option_strings:
            yield action.dest, max(action.option_strings, key=len)
        else:
            yield action.dest, str(action.metavar or action.dest)


def _not_utf8(value: object) -> str | None:
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return text
    return None


def check_text_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Raise :class:`UsageError` for the first text argument that is not UTF-8.
    Paths (``--data-dir``, ``--config``…) may be any bytes, as file names may."""
    for dest, value in vars(args).items():
        bad = None if dest in BYTES_ARGUMENTS else _not_utf8(value)
        if bad is not None:
            name = dict(_names(parser)).get(dest, dest)
            raise UsageError(f"{name} is not valid UTF-8 text: {bad!r}")
