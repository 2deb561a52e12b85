"""Percentiles and the printed tables of the benchmarks: pure functions, no I/O except
reading what the machine is."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = [
    "Latency",
    "Startup",
    "Throughput",
    "latency_table",
    "machine_description",
    "ratio_line",
    "startup_table",
    "throughput_table",
]

_LABEL_WIDTH = 44


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of one path, in milliseconds."""

    label: str
    n: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, label: str, seconds: Sequence[float]) -> Latency:
        """From durations in seconds (at least one)."""
        ms = sorted(s * 1000.0 for s in seconds)
        if len(ms) == 1:
            return cls(label, 1, ms[0], ms[0], ms[0], ms[0])
        # 99 cut points; "inclusive" treats the samples as the whole population
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        return cls(label, len(ms), cuts[49], cuts[89], cuts[98], ms[-1])


@dataclass(frozen=True, slots=True)
class Throughput:
    """A burst of ``n`` messages sent without waiting for any of them to arrive."""

    label: str
    n: int
    sent: float
    """Seconds from the first send call until the last one returned."""
    received: float
    """Seconds from the first send call until the receiver had all ``n``."""

    @property
    def rate(self) -> float:
        return self.n / self.received if self.received > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class Startup:
    """Seconds from starting a process until it showed what was awaited, per start."""

    label: str
    seconds: list[float]
    cpu: list[float]
    """CPU seconds the process had used by then: what the wall time would be on an
    idle machine, give or take waiting for the disk."""


def startup_table(title: str, rows: Sequence[Startup]) -> str:
    head = f"{title:<{_LABEL_WIDTH}} {'n':>6} {'median':>8} {'min':>8} {'max':>8} {'cpu med':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.label:<{_LABEL_WIDTH}} {len(r.seconds):>6} {statistics.median(r.seconds):>8.3f} "
            f"{min(r.seconds):>8.3f} {max(r.seconds):>8.3f} {statistics.median(r.cpu):>8.2f}"
        )
    return "\n".join(lines)


def latency_table(title: str, rows: Sequence[Latency], missing: dict[str, int]) -> str:
    head = f"{title:<{_LABEL_WIDTH}} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (
            f"{r.label:<{_LABEL_WIDTH}} {r.n:>6} "
            f"{r.p50:>8.3f} {r.p90:>8.3f} {r.p99:>8.3f} {r.max:>8.3f}"
        )
        if missing.get(r.label):
            line += f"  ({missing[r.label]} never came)"
        lines.append(line)
    return "\n".join(lines)


def ratio_line(chat: Latency, raw: Latency) -> str:
    return (
        f"chat/raw (send→stored vs publish→received): "
        f"p50 ×{chat.p50 / raw.p50:.1f}   p99 ×{chat.p99 / raw.p99:.1f}"
    )


def sealed_line(
    sealed: Latency, plain: Latency, sealed_burst: Throughput, plain_burst: Throughput
) -> str:
    """What end-to-end encryption costs, measured in the same run (target: 1.5 times at most)."""
    return (
        f"sealed/plain (send→stored): p50 ×{sealed.p50 / plain.p50:.2f}   "
        f"p99 ×{sealed.p99 / plain.p99:.2f}   burst ×{plain_burst.rate / sealed_burst.rate:.2f} "
        "(time per message)"
    )


def throughput_table(title: str, rows: Sequence[Throughput]) -> str:
    head = f"{title:<{_LABEL_WIDTH}} {'n':>6} {'sent ms':>9} {'recv ms':>9} {'msg/s':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.label:<{_LABEL_WIDTH}} {r.n:>6} "
            f"{r.sent * 1000:>9.1f} {r.received * 1000:>9.1f} {r.rate:>9.0f}"
        )
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def machine_description(mosquitto: str) -> str:
    return (
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}\n"
        f"software: Python {platform.python_version()}, aiomqtt {_package('aiomqtt')} "
        f"(paho-mqtt {_package('paho-mqtt')}), mosquitto {mosquitto}"
    )
