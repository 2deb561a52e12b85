"""Small file systems of a test's own: a tmpfs mounted on a folder, that can be made
read-only. Root ignores file modes, so a read-only mount is the only read-only
that holds for everybody. Needs root (mount); CI runs as root, elsewhere the test
is skipped."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["remount_read_only", "tmpfs"]


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@contextmanager
def tmpfs(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` on ``folder`` (made if missing), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here: {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount_read_only(folder: Path) -> None:
    """Make the tmpfs on ``folder`` read-only, for root too."""
    done = _mount("-o", "remount,ro", str(folder))
    assert done.returncode == 0, done.stderr
