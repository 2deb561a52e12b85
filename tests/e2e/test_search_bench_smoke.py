"""bench/search.py runs end to end on a small history and prints every row. A smoke
test: whether there are figures is checked, never what they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_search_bench_prints_its_rows() -> None:
    done = subprocess.run(
        [sys.executable, "bench/search.py", "--messages", "3000", "--queries", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = re.findall(
        r"^(.+?)\s+20\s+([\d.]+)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+[\d.]+$", done.stdout, re.M
    )
    assert len(rows) == 9, done.stdout
    assert "the rare word (zyxel, 10 messages)" in rows[1][0]
    assert re.search(r"^target p99 < 50 ms on every row: (met|NOT met)", done.stdout, re.M)
    assert re.search(r"^migration of a version 4 file of it .*: [\d.]+ s$", done.stdout, re.M)
