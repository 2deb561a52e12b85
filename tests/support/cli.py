"""The ``mqchat`` command as a script runs it: a process of its own, in a clean
environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["mqchat"]

ROOT = Path(__file__).resolve().parents[2]


def mqchat(
    *args: str, data: Path, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a clean environment (no MQCHAT_* from the caller) plus ``env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "mqchat", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
