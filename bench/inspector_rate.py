"""Issue 17, acceptance 2, in one run on one private mosquitto: how fast the
inspector's status line reaches N (alone and while recording) and how fast
`mqchat sub -C` drains, each as a ratio to `mosquitto_sub` in the same round; and the
inspector's RSS after 1M messages over 10k topics next to its RSS after 100k.

    .venv/bin/python bench/inspector_rate.py [--messages 200000] [--rounds 3] [--record]
        [--live] [--skip-memory] [--memory-total 1000000] [--memory-topics 10000]
    .venv/bin/python bench/inspector_rate.py --messages 20000 --rounds 1 --memory-total 200000

**Rates.** N messages of SIZE bytes, QoS 0, to `bench/flood`; one subscriber at a
time, in an order that alternates each round. By default the flood *waits in the
broker* (bench/_preload.py): the subscriber is subscribed (it has the retained
`bench/ready`), stopped with SIGSTOP, `mosquitto_pub -l` publishes all N, and the
clock runs from SIGCONT until the subscriber has all N; so the publisher's speed
and CPU are out of the figure, which on a shared machine otherwise decides it.
`--live` floods while the subscriber reads (bench/inspector_flood.py's way).

* `mosquitto_sub -C N+1`, `mqchat sub -C N+1`: subprocesses; each one's output must be
  the ready line and the N lines in order.
* the inspector: `make_inspect_app` + `InspectorFeed` under `app.run_test()` in a
  child process of its own; the clock stops when the status line's total
  (`InspectorStatus.figures.total`) shows N+1 (a second row: when the model has
  ingested them all).
* `--record`: the inspector again, with the flight recorder on (`r`,
  `InspectorScreen.action_record`); skipped, saying so, in a build without it.

Each row prints the rate per round and the median; each ratio is taken per round
(against that round's `mosquitto_sub`) and its median is held to its target.

**Memory** (bench/inspector_flood.py's `memory()`): a fresh child process, the
headless inspector subscribed to `mem/#`, messages round-robin over T topics in
steps of 100,000; the current RSS (`/proc/self/statm`) after 100k and after M.

The report goes to stdout, progress to stderr. Exit status 1 when a run lost
messages or timed out; a figure under its target is reported, not failed."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker, mosquitto_version  # noqa: E402
from bench._preload import measure_preloaded, publish_all  # noqa: E402
from bench._report import machine_description  # noqa: E402
from bench.inspector_flood import POLL, _inspector_app, _shown_total, _until, memory  # noqa: E402
from bench.sub_rate import FLOOD, READY, BenchFailure, Tool, _at, _stop, flood_lines, measure  # noqa: E402

TARGETS = {"mqchat sub": 0.85, "inspector": 0.45, "inspector recording": 0.36}
MEMORY_CAP_MB, MEMORY_GROWTH = 110.0, 0.05
NO_RECORDER = "the flight recorder is not in this build (no InspectorScreen.action_record)"


# -- the inspector, in a child process ---------------------------------------------------


async def _start_recording(app) -> bool:  # type: ignore[no-untyped-def]
    screen = app.inspector
    action = getattr(screen, "action_record", None)
    if action is None:
        return False
    await action()
    await _until(lambda: getattr(screen, "recording", None) is not None, 10, "no recording")
    return True


async def _inspector_worker(port: int, n: int, record: bool, timeout: float) -> dict:
    """Subscribe, say ``ready`` on stdout, then note (monotonic clock, shared by all
    processes) when the status line shows n+1 and when the model has all of them."""
    with tempfile.TemporaryDirectory(prefix="mqchat-rate-inspector-") as tmp:
        app = _inspector_app(port, [FLOOD, READY], Path(tmp))
        async with app.run_test(size=(120, 40)):
            screen = app.inspector
            try:
                await _until(lambda: _shown_total(app) >= 1, 15, "the inspector was not subscribed")
                if record and not await _start_recording(app):
                    return {"skipped": NO_RECORDER}
                print("ready", flush=True)
                shown = ingested = 0.0
                deadline = time.monotonic() + timeout
                while not (shown and ingested):
                    now = time.monotonic()
                    if not shown and _shown_total(app) >= n + 1:
                        shown = now
                    if not ingested and screen.model.total >= n + 1:
                        ingested = now
                    if now > deadline:
                        raise BenchFailure(
                            f"the inspector showed {_shown_total(app)} and ingested "
                            f"{screen.model.total} of {n + 1} within {timeout:g} s"
                        )
                    await asyncio.sleep(POLL)
                return {"shown": shown, "ingested": ingested, "dropped": app.backend.dropped}
            finally:
                await screen.stop_backend()


def measure_inspector(
    port: int, n: int, flood_file: Path, record: bool, live: bool, timeout: float
) -> dict:
    """Seconds until the status line showed n and until the model had them all."""
    argv = [sys.executable, __file__, "--_inspector", json.dumps([port, n, record, timeout])]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    assert child.stdout is not None
    try:
        first = child.stdout.readline().decode().strip()
        if first != "ready":
            child.wait(timeout=timeout)
            result = json.loads(first) if first.startswith("{") else {}
            if "skipped" in result:
                return result
            raise BenchFailure(f"the inspector child exited with {child.returncode}")
        if live:
            started = time.monotonic()
            with flood_file.open("rb") as lines:
                pub = subprocess.Popen(
                    ["mosquitto_pub", *_at(port), "-t", FLOOD, "-q", "0", "-l"], stdin=lines
                )
        else:
            os.kill(child.pid, signal.SIGSTOP)
            try:
                publish_all(port, flood_file, timeout)
            finally:
                started = time.monotonic()
                os.kill(child.pid, signal.SIGCONT)
        out, _ = child.communicate(timeout=timeout + 30)
        if live:
            pub.wait(timeout=timeout)
    finally:
        _stop(child)
    if child.returncode != 0:
        raise BenchFailure(f"the inspector child exited with {child.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {
        "shown": result["shown"] - started,
        "ingested": result["ingested"] - started,
        "dropped": result["dropped"],
    }


# -- rounds ----------------------------------------------------------------------------


def run_rounds(port: int, args: argparse.Namespace, work: Path) -> tuple[dict, list[str]]:
    """Rate per round for each row, and notes."""
    n = args.messages
    flood = flood_lines(n, args.size)
    flood_file = work / "flood.txt"
    flood_file.write_bytes(flood)
    expected = b"ready\n" + flood
    count, url = str(n + 1), f"mqtt://127.0.0.1:{port}"
    tools = [
        Tool("mosquitto_sub", ["mosquitto_sub", *_at(port), "-t", FLOOD, "-t", READY, "-C", count]),
        Tool(
            "mqchat sub",
            [sys.executable, "-m", "mqchat", "sub", FLOOD, READY, "--broker", url, "-C", count],
        ),
        Tool("inspector", []),
    ]
    if args.record:
        tools.append(Tool("inspector recording", []))
    rates: dict[str, list[float]] = {}
    notes: list[str] = []
    for round_no in range(args.rounds):
        order = tools if round_no % 2 == 0 else tools[::-1]
        for tool in order:
            if tool.label == "inspector recording" and NO_RECORDER in notes:
                continue
            print(f"round {round_no + 1}: {tool.label}…", file=sys.stderr)
            if tool.argv:
                how = measure if args.live else measure_preloaded
                found = how(tool, port, flood_file, expected, n, work, args.timeout)
                seconds = found if isinstance(found, float) else found.seconds
                rates.setdefault(tool.label, []).append(n / seconds)
                print(f"  {n / seconds:,.0f} msg/s", file=sys.stderr)
                continue
            record = tool.label == "inspector recording"
            got = measure_inspector(port, n, flood_file, record, args.live, args.timeout)
            if "skipped" in got:
                notes.append(got["skipped"])
                print(f"  skipped: {got['skipped']}", file=sys.stderr)
                continue
            rates.setdefault(f"{tool.label}: status line", []).append(n / got["shown"])
            rates.setdefault(f"{tool.label}: model ingested all", []).append(n / got["ingested"])
            print(f"  status line {n / got['shown']:,.0f} msg/s", file=sys.stderr)
            if got["dropped"]:
                notes.append(
                    f"{tool.label}, round {round_no + 1}: the feed dropped {got['dropped']:,}"
                )
    return rates, notes


def report(args: argparse.Namespace, rates: dict, notes: list[str], mem: dict | None) -> str:
    how = "published while it reads" if args.live else "waiting in the broker (SIGSTOP/SIGCONT)"
    lines = ["mqchat issue 17, acceptance 2: inspector and mqchat sub rates, inspector memory"]
    lines.append(machine_description(mosquitto_version()))
    if rates:
        lines += [
            "",
            f"rates: {args.messages:,} x {args.size} B, QoS 0, {how}, {args.rounds} round(s)",
        ]
        width = max(len(label) for label in rates) + 2
        head = f"{'subscriber':<{width}}" + "".join(
            f"{'r' + str(i + 1):>10}" for i in range(args.rounds)
        )
        lines += [f"{head}{'median':>10}   msg/s", "-" * (len(head) + 18)]
        for label, values in rates.items():
            cells = "".join(f"{v:>10,.0f}" for v in values)
            lines.append(f"{label:<{width}}{cells}{statistics.median(values):>10,.0f}")
        lines.append("")
        reference = rates.get("mosquitto_sub", [])
        for key, target in TARGETS.items():
            label = key if key == "mqchat sub" else f"{key}: status line"
            if label not in rates or not reference:
                continue
            ratios = [r / ref for r, ref in zip(rates[label], reference, strict=False)]
            median = statistics.median(ratios)
            verdict = "meets" if median >= target else "MISSES"
            per_round = " ".join(f"x{r:.2f}" for r in ratios)
            lines.append(
                f"{label} / mosquitto_sub: median x{median:.2f} (rounds {per_round}): "
                f"{verdict} the x{target:.2f} target"
            )
    lines += notes
    if mem:
        first, last = mem["points"][0], mem["points"][-1]
        growth = last["rss"] / first["rss"] - 1
        lines += [
            "",
            f"memory: headless inspector (own process), {args.memory_total:,} x {args.size} B "
            f"over {args.memory_topics:,} topics; RSS before the app {mem['base_rss']:.1f} MB, "
            f"app idle {mem['idle_rss']:.1f} MB",
            f"{'messages':>10}{'RSS MB':>9}{'peak RSS MB':>13}{'kept':>9}{'topics':>8}"
            f"{'dropped':>9}",
            "-" * 58,
        ]
        for p in mem["points"]:
            lines.append(
                f"{p['messages']:>10,}{p['rss']:>9.1f}{p['peak']:>13.1f}{p['kept']:>9,}"
                f"{p['topics']:>8,}{p['dropped']:>9,}"
            )
        cap_ok = last["rss"] <= MEMORY_CAP_MB
        growth_ok = abs(growth) <= MEMORY_GROWTH
        lines.append(
            f"RSS after {last['messages']:,}: {last['rss']:.1f} MB ("
            + ("meets" if cap_ok else "MISSES")
            + f" <= {MEMORY_CAP_MB:.0f} MB), {growth:+.1%} vs after {first['messages']:,} ("
            + ("meets" if growth_ok else "MISSES")
            + f" within {MEMORY_GROWTH:.0%})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_inspector"]:
        try:
            result = asyncio.run(_inspector_worker(*json.loads(argv[1])))
        except BenchFailure as exc:
            print(f"inspector_rate: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="flood size (200000)")
    parser.add_argument("--size", type=int, default=100, help="payload bytes (100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every row (3)")
    parser.add_argument("--record", action="store_true", help="a row with the recorder on")
    parser.add_argument("--live", action="store_true", help="flood while subscribers read")
    parser.add_argument("--memory-total", type=int, default=1_000_000, help="(1000000)")
    parser.add_argument("--memory-topics", type=int, default=10_000, help="(10000)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run (120)")
    args = parser.parse_args(argv)
    for program in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if shutil.which(program) is None:
            print(f"{program} is not installed (apt-get install mosquitto mosquitto-clients)")
            return 1
    rates: dict = {}
    notes: list[str] = []
    mem = None
    with tempfile.TemporaryDirectory(prefix="mqchat-inspector-rate-") as tmp:
        work = Path(tmp)
        try:
            with BenchBroker(work / "broker") as broker:
                subprocess.run(
                    ["mosquitto_pub", *_at(broker.port), "-t", READY, "-m", "ready", "-r"],
                    check=True,
                )
                if not args.skip_memory:
                    print("memory (child process)…", file=sys.stderr)
                    mem = memory(
                        broker.port, args.memory_total, args.memory_topics, args.size, args.timeout
                    )
                if not args.skip_rate:
                    rates, notes = run_rounds(broker.port, args, work)
        except (BenchFailure, RuntimeError, subprocess.SubprocessError) as exc:
            print(f"inspector_rate: {exc}", file=sys.stderr)
            if rates or mem:
                print(report(args, rates, notes, mem))
            return 1
        except KeyboardInterrupt:
            return 130
    print(report(args, rates, notes, mem))
    return 0


if __name__ == "__main__":
    os.environ.pop("MQCHAT_BROKER", None)  # the bench names its own broker
    sys.exit(main())
