"""What every mqchat command shares: its exit statuses and the error that means
"bad arguments"."""

from __future__ import annotations

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "UsageError",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_TIMEOUT = 27  # mosquitto_sub's status when -W runs out before -C is reached
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for mosquitto_sub killed by SIGPIPE


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit 2."""
