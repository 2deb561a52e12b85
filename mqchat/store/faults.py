"""What the user can do about a history file that cannot be opened, read or written:
the reason SQLite or the OS gave, turned into the advice that ends the one line
mqchat prints (``…: file is not a database; move it away …``)."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

__all__ = ["cannot_open", "is_file_fault", "remedy", "with_remedy"]

_FILE_FAULTS = {
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
}
"""SQLite's (primary) result codes that are about the file, not the SQL."""

_OTHER_DATA_DIR = "or choose another data dir (--data-dir)"
_BY_ERRNO = {
    errno.EROFS: f"make it writable, {_OTHER_DATA_DIR}",
    errno.EACCES: f"check the permissions of the file and its folders, {_OTHER_DATA_DIR}",
    errno.EPERM: f"check the permissions of the file and its folders, {_OTHER_DATA_DIR}",
    errno.ENOSPC: "free some disk space and try again",
    errno.EDQUOT: "free some disk space and try again",
    errno.EISDIR: f"a folder has the history's name: move it away, {_OTHER_DATA_DIR}",
    errno.ENAMETOOLONG: "choose a data dir with a shorter path (--data-dir)",
    errno.ELOOP: f"a symbolic link on the way loops: fix it, {_OTHER_DATA_DIR}",
}
# By the words of SQLite's message (its exceptions carry no errno), first match wins.
_BY_TEXT = (
    (
        ("not a database", "malformed", "encrypted"),
        "it is damaged or not an mqchat history: move it away (mqchat then starts an "
        "empty one) or put back a backup",
    ),
    (("readonly", "read-only"), f"make it and its folder writable, {_OTHER_DATA_DIR}"),
    (("disk is full",), "free some disk space and try again"),
    (("disk i/o error",), "check the disk (dmesg), then try again"),
    (("locked", "busy"), "another program holds it: close that program, then try again"),
    (("unable to open",), f"check that its folder exists and is writable, {_OTHER_DATA_DIR}"),
)


def is_file_fault(exc: BaseException) -> bool:
    """Whether SQLite's ``exc`` is the file's trouble (full, read-only, damaged,
    locked…) rather than mqchat's (bad SQL, a failed constraint)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _FILE_FAULTS


def remedy(reason: BaseException) -> str:
    """What to do about ``reason`` (an ``OSError`` or one of SQLite's), or ``""``."""
    if isinstance(reason, NotADirectoryError):
        return f"move it away, {_OTHER_DATA_DIR}"
    if isinstance(reason, OSError) and reason.errno in _BY_ERRNO:
        return _BY_ERRNO[reason.errno]
    text = str(reason).lower()
    for words, advice in _BY_TEXT:
        if any(word in text for word in words):
            return advice
    return ""


def with_remedy(line: str, reason: BaseException) -> str:
    """``line``, then what to do about ``reason`` if there is something to say."""
    advice = remedy(reason)
    return f"{line}; {advice}" if advice else line


def _file_on_the_way(path: Path) -> Path | None:
    """The first of ``path``'s folders that is a file (what ``ENOTDIR`` is about)."""
    for folder in reversed(path.parents):
        if folder.exists() and not folder.is_dir():
            return folder
    return None


def cannot_open(path: Path, exc: OSError) -> str:
    """The line for the history ``path`` that the OS would not open, make or stat."""
    if isinstance(exc, NotADirectoryError):
        blocking = _file_on_the_way(path) or exc.filename or "a folder on the way"
        reason = f"{blocking} is a file, not a folder"
    else:
        where = f" ({exc.filename})" if exc.filename and exc.filename != str(path) else ""
        reason = f"{exc.strerror or exc}{where}"
    return with_remedy(f"cannot open the history {path}: {reason}", exc)
