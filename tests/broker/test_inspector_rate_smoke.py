"""bench/inspector_rate.py runs end to end on a small flood: a rate for each row,
each ratio against its target, the recorder row skipped or measured, and the memory
verdict. A smoke test: whether there are figures is checked, never what they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mosquitto import require_mosquitto

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "inspector_rate.py"


def test_inspector_rate_bench_prints_every_row_and_verdict() -> None:
    require_mosquitto()
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--messages",
            "3000",
            "--rounds",
            "1",
            "--record",
            "--memory-total",
            "200000",
            "--memory-topics",
            "1000",
            "--timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout
    for label in ("mosquitto_sub", "mqchat sub", "inspector: status line"):
        assert re.search(rf"^{label}\s+[\d,]+\s+[\d,]+$", out, re.MULTILINE), out
    for label, target in (("mqchat sub", "0.85"), ("inspector: status line", "0.45")):
        assert re.search(
            rf"^{label} / mosquitto_sub: median x[\d.]+ .*(meets|MISSES) the x{target} target$",
            out,
            re.MULTILINE,
        ), out
    assert "flight recorder is not in this build" in out or "inspector recording" in out
    assert re.search(r"^RSS after 200,000: [\d.]+ MB .* vs after 100,000 ", out, re.MULTILINE), out
