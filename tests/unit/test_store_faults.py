"""What mqchat tells a user whose history file fails, for the errors SQLite and the
OS really raise: the file's trouble gets advice, mqchat's own bugs do not pass for
the file's."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from mqchat.store.faults import cannot_open, is_file_fault, remedy


def sqlite_error(tmp_path: Path, what: str) -> sqlite3.Error:
    path = tmp_path / "a.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    if what == "read-only":
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        sql = "INSERT INTO t VALUES (1)"
    elif what == "damaged":
        path.write_bytes(b"garbage" * 1000)
        conn, sql = sqlite3.connect(path), "SELECT * FROM t"
    else:  # mqchat's own mistake
        conn, sql = sqlite3.connect(path), "SELECT * FROM no_such_table"
    with pytest.raises(sqlite3.Error) as raised:
        conn.execute(sql)
    conn.close()
    return raised.value


@pytest.mark.parametrize(
    ("what", "advice"),
    [
        ("read-only", "make it and its folder writable, or choose another data dir"),
        ("damaged", "it is damaged or not an mqchat history: move it away"),
    ],
)
def test_the_files_trouble_gets_advice(tmp_path: Path, what: str, advice: str) -> None:
    exc = sqlite_error(tmp_path, what)
    assert is_file_fault(exc)
    assert remedy(exc).startswith(advice)


def test_a_bug_is_not_the_files_trouble(tmp_path: Path) -> None:
    exc = sqlite_error(tmp_path, "bug")
    assert not is_file_fault(exc)
    assert remedy(exc) == ""


def test_what_the_os_refuses_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("")
    history = blocker / "host_1883" / "alice.sqlite3"
    with pytest.raises(OSError) as raised:
        history.stat()
    assert cannot_open(history, raised.value) == (
        f"cannot open the history {history}: {blocker} is a file, not a folder; move it "
        "away, or choose another data dir (--data-dir)"
    )
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path))
    assert cannot_open(history, full).endswith(
        f"No space left on device ({tmp_path}); free some disk space and try again"
    )
