"""Files and folders only their owner may read: the data folder and everything mqchat
writes (histories, the session lock, exports, the config file, a local broker's
data). Modes are set explicitly after creating, never through the umask: the umask
is process-wide, and changing it in a threaded app would race with other threads."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "make_private_dirs",
    "open_private",
    "private_dir",
    "private_file",
    "write_private_text",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

_FLAGS = {
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "r+": os.O_RDWR | os.O_CREAT,
}


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and its missing parents, each 0700. Folders that exist are
    left as they are (``/tmp`` of an export is not mqchat's to change)."""
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not new.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(new)) from None
            continue  # made meanwhile by another process: its own mode stands
        os.chmod(new, PRIVATE_DIR_MODE)  # whatever the umask took away
    return path


def private_dir(path: Path) -> Path:
    """One of mqchat's own folders: made 0700 (with its missing parents), or
    tightened to 0700 when an older mqchat left it open to others."""
    make_private_dirs(path)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def _private_fd(path: Path, flags: int) -> int:
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # an existing file, or a umask of 0o200
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_file(path: Path) -> Path:
    """``path`` made 0600: created empty when missing, tightened when it exists."""
    os.close(_private_fd(path, os.O_RDONLY | os.O_CREAT))
    return path


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> IO[Any]:
    """``open(path, mode)`` for ``w``, ``wb`` or ``r+`` (created when missing), the
    file 0600 before anything is written to it."""
    fd = _private_fd(path, _FLAGS[mode])
    try:
        return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def write_private_text(path: Path, text: str) -> None:
    """``path.write_text(text)``, the file 0600 (its folder must exist)."""
    with open_private(path, "w") as out:
        out.write(text)
