"""bench/sub_rate.py runs end to end on a small flood and prints a rate for each
subscriber and the ratios. A smoke test: whether there are figures is checked, never
what they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mosquitto import require_mosquitto

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "sub_rate.py"


def test_sub_rate_bench_prints_both_rates_and_the_ratio() -> None:
    require_mosquitto()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--messages", "3000", "--rounds", "1", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    for label in ("mosquitto_sub", r"mqchat sub \(MQTT 5, default\)", "mqchat sub -V 3.1.1"):
        assert re.search(rf"^{label}\s+[\d,]+\s+[\d,]+$", done.stdout, re.MULTILINE), done.stdout
    assert re.search(
        r"^mqchat sub \(MQTT 5, default\) / mosquitto_sub: median x[\d.]+",
        done.stdout,
        re.MULTILINE,
    )
