"""How fast `mqchat sub -C N` drains a flood, next to `mosquitto_sub -C N` on the same
private mosquitto in the same run (issue 4, acceptance 1: at least 0.25x).

    .venv/bin/python bench/sub_rate.py [--messages 200000] [--size 100] [--rounds 3]

Each round floods the broker once per subscriber, one subscriber at a time, so each
gets the same CPUs: `mosquitto_pub -l` publishes N lines of SIZE bytes at QoS 0 to
`bench/flood`. A subscriber counts as subscribed once it has printed the retained
message of `bench/ready` (a broker sends retained messages only after it has taken
the subscription); only then does the flood start. The clock runs from starting
`mosquitto_pub` until the subscriber has exited after N + 1 messages, and its output
file must then hold exactly the ready line and the N flood lines, in order.

The broker is bench/_broker.py's (errors-only log, no persistence,
`max_queued_messages 0`): the tests' broker logs every packet, which would slow the
broker down and flatter the slower client. The report goes to stdout, progress to
stderr. Exit status 1 when a run lost, reordered or never finished its messages (a
figure below the target is reported, not failed: benches print, tests judge)."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker, mosquitto_version  # noqa: E402
from bench._report import machine_description  # noqa: E402

FLOOD, READY = "bench/flood", "bench/ready"
THRESHOLD = 0.25


@dataclass(frozen=True, slots=True)
class Tool:
    label: str
    argv: list[str]


@dataclass(frozen=True, slots=True)
class Run:
    tool: str
    seconds: float
    publisher_seconds: float
    messages: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


class BenchFailure(Exception):
    """A run that gives no figure: lost messages, a crash, a timeout."""


def flood_lines(n: int, size: int) -> bytes:
    """``n`` distinct lines of exactly ``size`` bytes each, newline not counted."""
    return b"".join(f"flood {i:09d} ".ljust(size, "x")[:size].encode() + b"\n" for i in range(n))


def _at(port: int) -> list[str]:
    return ["-h", "127.0.0.1", "-p", str(port)]


def tools(port: int, n: int) -> list[Tool]:
    count = str(n + 1)  # the ready message, then the flood
    mqchat = [sys.executable, "-m", "mqchat", "sub", FLOOD, READY]
    url = f"mqtt://127.0.0.1:{port}"
    return [
        Tool(
            "mosquitto_sub",
            ["mosquitto_sub", *_at(port), "-t", FLOOD, "-t", READY, "-C", count],
        ),
        Tool("mqchat sub (MQTT 5, default)", [*mqchat, "--broker", url, "-C", count]),
        Tool("mqchat sub -V 3.1.1", [*mqchat, "--broker", url, "-C", count, "-V", "3.1.1"]),
    ]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(out: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with out.open("rb") as f:
            if f.read(6) == b"ready\n":
                return
        if proc.poll() is not None:
            raise BenchFailure(f"the subscriber exited with {proc.returncode} before the flood")
        time.sleep(0.005)  # polling a file another process writes: nothing to await
    raise BenchFailure(f"the subscriber was not subscribed within {timeout:g} s")


def measure(
    tool: Tool, port: int, flood_file: Path, expected: bytes, n: int, work: Path, timeout: float
) -> Run:
    out, err = work / "sub.out", work / "sub.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        sub = subprocess.Popen(tool.argv, stdout=stdout, stderr=stderr, cwd=ROOT)
    pub: subprocess.Popen[bytes] | None = None
    try:
        _wait_ready(out, sub, 15)
        with flood_file.open("rb") as lines:
            started = time.perf_counter()
            pub = subprocess.Popen(
                ["mosquitto_pub", *_at(port), "-t", FLOOD, "-q", "0", "-l"],
                stdin=lines,
            )
        published = 0.0
        while sub.poll() is None:
            if pub.poll() is not None and not published:
                published = time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise BenchFailure(f"{tool.label} did not get {n} messages within {timeout:g} s")
            time.sleep(0.001)  # waiting for another process to exit
        seconds = time.perf_counter() - started
        pub.wait(timeout=timeout)
        published = published or (time.perf_counter() - started)
    finally:
        _stop(sub)
        if pub is not None:
            _stop(pub)
    if sub.returncode != 0:
        detail = err.read_text(errors="replace").strip()
        raise BenchFailure(f"{tool.label} exited with {sub.returncode}: {detail}")
    got = out.read_bytes()
    if got != expected:
        lines = got.count(b"\n")
        raise BenchFailure(
            f"{tool.label} printed {lines} lines, not the ready line and the {n} flood lines "
            "in order"
        )
    return Run(tool.label, seconds, published, n)


def report(runs: list[Run], n: int, size: int, rounds: int) -> str:
    labels = list(dict.fromkeys(r.tool for r in runs))
    by_tool = {label: [r for r in runs if r.tool == label] for label in labels}
    width = max(len(label) for label in labels) + 2
    head = f"{'subscriber':<{width}}" + "".join(
        f"{'round ' + str(i + 1):>11}" for i in range(rounds)
    )
    lines = [
        f"mqchat sub drain rate: {n:,} messages x {size} B, QoS 0, published by mosquitto_pub -l, "
        f"{rounds} round(s), one subscriber at a time",
        machine_description(mosquitto_version()),
        "",
        f"{head}{'median':>11}   msg/s",
        "-" * (len(head) + 19),
    ]
    medians: dict[str, float] = {}
    for label, mine in by_tool.items():
        rates = [r.rate for r in mine]
        medians[label] = statistics.median(rates)
        cells = "".join(f"{rate:>11,.0f}" for rate in rates)
        lines.append(f"{label:<{width}}{cells}{medians[label]:>11,.0f}")
    publisher = statistics.median(n / r.publisher_seconds for r in runs)
    lines += ["", f"mosquitto_pub -l itself: median {publisher:,.0f} msg/s over all runs", ""]
    reference = medians["mosquitto_sub"]
    for label, median in medians.items():
        if label == "mosquitto_sub":
            continue
        ratio = median / reference
        per_round = [
            m.rate / ref.rate
            for m, ref in zip(by_tool[label], by_tool["mosquitto_sub"], strict=True)
        ]
        worst = min(per_round)
        verdict = "meets" if worst >= THRESHOLD else "MISSES"
        lines.append(
            f"{label} / mosquitto_sub: median x{ratio:.2f}, worst round x{worst:.2f} "
            f"({verdict} the x{THRESHOLD} target)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="flood size (200000)")
    parser.add_argument("--size", type=int, default=100, help="payload bytes (100)")
    parser.add_argument("--rounds", type=int, default=3, help="floods per subscriber (3)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run (120)")
    args = parser.parse_args(argv)
    for program in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if shutil.which(program) is None:
            print(f"{program} is not installed (apt-get install mosquitto mosquitto-clients)")
            return 1
    n = args.messages
    with tempfile.TemporaryDirectory(prefix="mqchat-sub-rate-") as tmp:
        work = Path(tmp)
        flood = flood_lines(n, args.size)
        flood_file = work / "flood.txt"
        flood_file.write_bytes(flood)
        expected = b"ready\n" + flood
        runs: list[Run] = []
        try:
            with BenchBroker(work / "broker") as broker:
                subprocess.run(
                    ["mosquitto_pub", *_at(broker.port), "-t", READY, "-m", "ready", "-r"],
                    check=True,
                )
                candidates = tools(broker.port, n)
                for round_no in range(args.rounds):
                    # Alternate the order, so neither always runs on a warmer machine.
                    order = candidates if round_no % 2 == 0 else candidates[::-1]
                    for tool in order:
                        print(f"round {round_no + 1}: {tool.label}…", file=sys.stderr)
                        run = measure(
                            tool, broker.port, flood_file, expected, n, work, args.timeout
                        )
                        print(f"  {run.rate:,.0f} msg/s", file=sys.stderr)
                        runs.append(run)
        except (BenchFailure, RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"sub_rate: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
    order_fixed = sorted(runs, key=lambda r: [t.label for t in candidates].index(r.tool))
    print(report(order_fixed, n, args.size, args.rounds))
    return 0


if __name__ == "__main__":
    os.environ.pop("MQCHAT_BROKER", None)  # the bench names its own broker
    sys.exit(main())
