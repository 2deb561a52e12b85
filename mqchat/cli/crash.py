"""After the TUI: an error that ended it becomes one line on stderr and exit 1; the
traceback goes to ``crash.log`` in the data dir (private, like every mqchat file).
A history that could not be opened, read or written is no bug: its own line (the
file, why, what to do) is all there is to say, and no log is written beside it."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from mqchat.cli.base import EXIT_FAILED, EXIT_OK

__all__ = ["after_tui"]


def after_tui(crash: BaseException | None, data_dir: Path) -> int:
    """The exit status of a TUI that ended with ``crash`` (``None``: a normal quit)."""
    if crash is None:
        return EXIT_OK
    crash = _cause(crash)
    from mqchat.store import StoreError

    if isinstance(crash, StoreError):
        print(f"mqchat: {crash}", file=sys.stderr)
        return EXIT_FAILED
    where = _write_log(crash, data_dir / "crash.log")
    first = (str(crash).splitlines() or [""])[0]
    print(
        f"mqchat: stopped on an error: {type(crash).__name__}: {first} ({where})",
        file=sys.stderr,
    )
    return EXIT_FAILED


def _cause(crash: BaseException) -> BaseException:
    """The error itself, out of the Textual worker that carried it up."""
    from textual.worker import WorkerFailed

    while isinstance(crash, WorkerFailed):
        crash = crash.error
    return crash


def _write_log(crash: BaseException, path: Path) -> str:
    text = "".join(traceback.format_exception(crash))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as log:
            log.write(text)
    except OSError as exc:
        return f"the details could not be written to {path}: {exc.strerror}"
    return f"details in {path}"
