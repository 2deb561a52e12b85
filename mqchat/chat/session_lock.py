"""One process per user and device owns the persistent MQTT session.

Two clients with the same id push each other off the broker in a loop (mosquitto
2.0 closes the older connection without saying why), so the session's client id
is guarded by an advisory file lock next to the database. A second mqchat of the
same user on the same data dir is refused (it would share the history but split the
live messages with the first); :meth:`SessionLock.holder` names the process that
holds it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from mqchat.config.private_files import make_private_dirs, open_private

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock, first come first served
    fcntl = None  # type: ignore[assignment]

__all__ = ["SessionLock"]


class SessionLock:
    """An exclusive lock on ``path``, held until :meth:`release` or process death
    (the kernel drops it even on SIGKILL)."""

    def __init__(self, handle: IO[str] | None) -> None:
        self._handle = handle

    @classmethod
    def try_acquire(cls, path: Path) -> SessionLock | None:
        """The lock, or ``None`` if another process holds it. The file is 0600."""
        make_private_dirs(path.parent)
        handle = open_private(path, "r+")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(handle)

    @staticmethod
    def holder(path: Path) -> int | None:
        """The pid written in the lock file by the process holding it, if readable."""
        try:
            return int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def taken(path: Path, user: str, data_dir: Path) -> str:
        """What to tell a second mqchat that found ``path`` locked."""
        pid = SessionLock.holder(path)
        return (
            f"another mqchat{f' (pid {pid})' if pid else ''} is already running as "
            f"{user} with this data dir ({data_dir}); use that one, or give this one "
            "its own --data-dir"
        )

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()  # closing drops the flock
