"""Run a command in a pseudo-terminal, as a person starts it in theirs, and read what
it drew and printed: for the TUI's last words after it has left the screen."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from dataclasses import dataclass

__all__ = ["TerminalRun", "run_in_terminal"]

_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_LEAVE_SCREEN = "\x1b[?1049l"


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    output: str
    """Everything written to the terminal, escape sequences and all."""

    @property
    def after_screen(self) -> list[str]:
        """The non-empty lines printed after the TUI left the alternate screen (or
        all of them, when it never entered one), without escape sequences."""
        tail = self.output.rsplit(_LEAVE_SCREEN, 1)[-1]
        plain = _ESCAPE.sub("", tail).replace("\r", "")
        return [line for line in plain.split("\n") if line.strip()]


def run_in_terminal(
    argv: list[str], *, env: dict[str, str], timeout: float = 30, size: tuple[int, int] = (100, 30)
) -> TerminalRun:
    """Run ``argv`` with a terminal of ``size`` (columns, rows) as its stdin, stdout
    and stderr until it exits; killed (and the test failed) after ``timeout``."""
    main, child = pty.openpty()
    columns, rows = size
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=child, stdout=child, stderr=child, env=env, start_new_session=True
    )
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: every writer of the terminal has gone
                break
            if not data:
                break
            chunks.append(data)
        else:
            raise AssertionError(f"{argv} still running after {timeout}s")
        returncode = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            os.close(main)
    return TerminalRun(returncode, b"".join(chunks).decode("utf-8", "replace"))
