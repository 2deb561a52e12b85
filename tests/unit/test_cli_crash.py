"""The line a crashed TUI leaves, and the private log with the details."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mqchat.cli.crash import after_tui


def test_a_normal_quit_exits_0(tmp_path: Path) -> None:
    assert after_tui(None, tmp_path) == 0
    assert not (tmp_path / "crash.log").exists()


def test_a_crash_is_one_line_exit_1_and_a_private_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        raise RuntimeError("database or disk is full\nsecond line")
    except RuntimeError as exc:
        status = after_tui(exc, tmp_path / "data")
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "RuntimeError: database or disk is full" in err and "second line" not in err
    log = tmp_path / "data" / "crash.log"
    assert str(log) in err
    assert "Traceback" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_log_that_cannot_be_written_is_said_in_the_same_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert after_tui(ValueError("x"), blocker) == 1  # the "data dir" is a file
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not be written" in err


def test_a_history_that_failed_is_its_own_line_and_no_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A screen's worker carried it up: the line used to read "stopped on an error:
    # WorkerFailed: Worker raised exception: StoreOpenError('…')".
    from textual.worker import WorkerFailed

    from mqchat.store import StoreOpenError

    failed = StoreOpenError("cannot use the history /d/a.sqlite3: file is not a database; move it")
    assert after_tui(WorkerFailed(failed), tmp_path) == 1
    err = capsys.readouterr().err
    assert err == "mqchat: cannot use the history /d/a.sqlite3: file is not a database; move it\n"
    assert not (tmp_path / "crash.log").exists()
