"""bench/chat_latency.py runs end to end and prints the percentiles of both paths. A
smoke test: whether there are figures is checked, never what they are."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mosquitto import require_mosquitto

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "chat_latency.py"
TIMEOUT_S = 90


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # the bench then stops its broker itself
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"the bench did not finish within {TIMEOUT_S}s\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def latency_row(output: str, label: str) -> list[float]:
    """n, p50, p90, p99 and max of the row ``label``."""
    match = re.search(rf"^{re.escape(label)}\s+((?:[\d.]+\s*){{5}})", output, re.MULTILINE)
    assert match, f"no latency row {label!r} in:\n{output}"
    return [float(x) for x in match.group(1).split()]


def test_bench_prints_latency_of_both_paths() -> None:
    require_mosquitto()
    result = run_bench(
        "--messages", "30", "--warmup", "5", "--history", "2000", "--starts", "1", "--rounds", "2"
    )  # fmt: skip
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    out = result.stdout

    header = next((line for line in out.splitlines() if line.startswith("latency")), "")
    assert header.split()[-4:] == ["p50", "p90", "p99", "max"], out
    assert latency_row(out, "raw aiomqtt: publish → B received")[0] == 30
    for label in ("chat: send → bob received and stored", "sealed: send → bob received and stored"):
        assert latency_row(out, label)[0] == 60  # two rounds each, pooled
    assert re.search(r"^chat/raw .*p50 ×[\d.]+ .*p99 ×[\d.]+", out, re.MULTILINE), out
    assert re.search(r"^sealed/plain .*p50 ×[\d.]+ .*burst ×[\d.]+", out, re.MULTILINE), out
    assert "msg/s" in out
    first = re.search(
        r"^mqchat chat bob over 2,000 messages\s+1\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+$",
        out,
        re.MULTILINE,
    )
    assert first and float(first.group(1)) > 0, out
