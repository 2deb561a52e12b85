"""Issue 4's flood bench, in one run on one private mosquitto (`max_queued_messages 0`):
how fast `mosquitto_sub`, raw aiomqtt, `mqchat sub` and the inspector (the real
Textual app, headless) drain the same flood, and the inspector's RSS over many topics.

    .venv/bin/python bench/inspector_flood.py [--messages 200000] [--size 100]
        [--memory-total 1000000] [--memory-topics 10000] [--skip-rate] [--skip-memory]

**Drain rate** (acceptance 1). `mosquitto_pub -l` publishes N lines of SIZE bytes at
QoS 0 to `bench/flood`, once per subscriber, one subscriber at a time. Each
subscriber is subscribed before the flood starts: it subscribes to `bench/flood` and
`bench/ready` and the flood starts only once it has received the retained `ready`
(a broker sends retained messages only after it has taken the subscription). The
clock runs from starting `mosquitto_pub` until the subscriber has N flood messages:

* `mosquitto_sub -C N+1` and `mqchat sub -C N+1`: subprocesses, sub_rate.py's
  `measure()` (the run ends when the process exits; its output is checked to be the
  ready line and the N lines in order).
* raw aiomqtt: an MQTT 5 `aiomqtt.Client` in this process, counting in
  `async for message in client.messages`.
* the inspector: `make_inspect_app` + `InspectorFeed` run with `app.run_test()` in
  this process; every 5 ms the bench reads the total the status line shows
  (`InspectorStatus.figures.total`, i.e. `backend.received` as of the screen's last
  tick) until it reaches N+1. It also notes when the screen's model has *ingested*
  all of them (`screen.model.total`, capture store + topic tree), reported as a
  second row. At 1/4 and 1/2 of the flood it presses `v` as a terminal would
  (`app.simulate_key`) and reports how long the screen took to act on it; a key
  not answered before the flood ends fails the run.

**Memory** (acceptance 2) runs first, in a fresh child process (so its peak RSS is the
inspector's own, not this bench's earlier phases): the headless inspector subscribed
to `mem/#`; messages of SIZE bytes go round-robin over T topics
(`mem/site/<i%97>/dev<i>/v`), published by a raw-socket MQTT 3.1.1 QoS 0 publisher
subprocess (pre-encoded PUBLISH packets, as fast as mosquitto_pub), in steps of
100,000; after each step the bench waits until the status line shows the step and
the screen has ingested it (so the feed's 200k buffer never drops). RSS is read at
100k and at --memory-total: `getrusage(RUSAGE_SELF).ru_maxrss` (peak) and
`/proc/self/statm` (current).

The report goes to stdout, progress to stderr. Exit status 1 when a run lost
messages or timed out; a figure under its target is reported, not failed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker, mosquitto_version  # noqa: E402
from bench._report import machine_description  # noqa: E402
from bench.sub_rate import (  # noqa: E402
    FLOOD,
    READY,
    BenchFailure,
    Tool,
    _at,
    _stop,
    flood_lines,
    measure,
)

TARGETS = {"mqchat sub": 0.25, "inspector": 0.20}
STEP = 100_000
POLL = 0.005


# -- helpers ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


def _inspector_app(port: int, filters: list[str], data_dir: Path):  # type: ignore[no-untyped-def]
    from mqchat.config.broker_url import parse_broker_url
    from mqchat.config.settings import Settings
    from mqchat.inspect_app import make_inspect_app
    from mqchat.inspector.feed import InspectorFeed

    settings = Settings(
        broker=parse_broker_url(f"mqtt://127.0.0.1:{port}"), user="", data_dir=data_dir
    )
    return make_inspect_app(settings=settings, connect=InspectorFeed, filters=filters)


def _shown_total(app) -> int:  # type: ignore[no-untyped-def]
    """The total the status line shows right now (0 before its first tick)."""
    from mqchat.widgets.inspector.status import InspectorStatus

    screen = app.inspector
    if screen is None or not screen.is_mounted:
        return 0
    figures = screen.query_one(InspectorStatus).figures
    return 0 if figures is None else figures.total


async def _until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchFailure(f"{what} within {timeout:g} s")
        await asyncio.sleep(POLL)


def _start_flood(port: int, flood_file: Path) -> subprocess.Popen[bytes]:
    with flood_file.open("rb") as lines:
        return subprocess.Popen(
            ["mosquitto_pub", *_at(port), "-t", FLOOD, "-q", "0", "-l"], stdin=lines
        )


# -- drain rate: in-process subscribers ------------------------------------------------


async def _aiomqtt_run(port: int, flood_file: Path, n: int, timeout: float) -> float:
    import aiomqtt
    from paho.mqtt.client import MQTTv5

    pub: subprocess.Popen[bytes] | None = None
    async with aiomqtt.Client("127.0.0.1", port, protocol=MQTTv5) as client:
        await client.subscribe(FLOOD)
        await client.subscribe(READY)
        count, started = 0, 0.0
        try:
            async with asyncio.timeout(timeout):
                async for message in client.messages:
                    if pub is None:
                        if message.topic.matches(READY):
                            started = time.perf_counter()
                            pub = _start_flood(port, flood_file)
                        continue
                    count += 1
                    if count == n:
                        break
        except TimeoutError:
            raise BenchFailure(f"raw aiomqtt got {count} of {n} within {timeout:g} s") from None
        finally:
            if pub is not None:
                pub.wait(timeout=timeout)
        return time.perf_counter() - started


async def _inspector_run(
    port: int, flood_file: Path, n: int, work: Path, timeout: float
) -> tuple[float, float, int, list[float]]:
    """Seconds until the status line shows n+1, until the model ingested n+1; dropped;
    how long the key presses made during the flood took to be answered."""
    app = _inspector_app(port, [FLOOD, READY], work / "inspect-data")
    pub: subprocess.Popen[bytes] | None = None
    async with app.run_test(size=(120, 40)):
        try:
            await _until(lambda: _shown_total(app) >= 1, 15, "the inspector was not subscribed")
            screen = app.inspector
            assert screen is not None
            started = time.perf_counter()
            pub = _start_flood(port, flood_file)
            shown = ingested = 0.0
            deadline = started + timeout
            # At 1/4 and 1/2 of the flood, v (the payload view: it changes what the
            # detail shows, not how much is drawn) is pressed as if on the terminal;
            # it is answered when the screen's view has changed.
            keys: list[float] = []
            from mqchat.widgets.inspector.tree import TopicTreeView

            await _until(lambda: screen.model.total >= 1, 15, "the ready message was not captured")
            screen.query_one(TopicTreeView).select(READY)  # so that v has a payload to view
            pressed_at, view_before = 0.0, screen.view
            while not (shown and ingested):
                now = time.perf_counter()
                total = _shown_total(app)
                if pressed_at and screen.view != view_before:
                    keys.append(now - pressed_at)
                    pressed_at, view_before = 0.0, screen.view
                if not pressed_at and len(keys) < 2 and total >= n * (len(keys) + 1) // 4:
                    app.simulate_key("v")
                    pressed_at = now
                if not shown and _shown_total(app) >= n + 1:
                    shown = now - started
                if not ingested and screen.model.total >= n + 1:
                    ingested = now - started
                if now > deadline:
                    raise BenchFailure(
                        f"the inspector showed {_shown_total(app)} and ingested "
                        f"{screen.model.total} of {n + 1} within {timeout:g} s"
                    )
                await asyncio.sleep(POLL)
            dropped = app.backend.dropped
            pub.wait(timeout=timeout)
        finally:
            if pub is not None:
                _stop(pub)
            await app.inspector.stop_backend()  # type: ignore[union-attr]
    return shown, ingested, dropped, keys


def drain_rates(
    port: int, n: int, size: int, work: Path, timeout: float
) -> list[tuple[str, float]]:
    flood = flood_lines(n, size)
    flood_file = work / "flood.txt"
    flood_file.write_bytes(flood)
    expected = b"ready\n" + flood
    count = str(n + 1)
    url = f"mqtt://127.0.0.1:{port}"
    results: list[tuple[str, float]] = []

    def note(label: str, seconds: float) -> None:
        print(f"  {label}: {n / seconds:,.0f} msg/s", file=sys.stderr)
        results.append((label, n / seconds))

    print("mosquitto_sub…", file=sys.stderr)
    tool = Tool(
        "mosquitto_sub", ["mosquitto_sub", *_at(port), "-t", FLOOD, "-t", READY, "-C", count]
    )
    note("mosquitto_sub", measure(tool, port, flood_file, expected, n, work, timeout).seconds)

    print("raw aiomqtt…", file=sys.stderr)
    note("raw aiomqtt (MQTT 5)", asyncio.run(_aiomqtt_run(port, flood_file, n, timeout)))

    print("mqchat sub…", file=sys.stderr)
    argv = [sys.executable, "-m", "mqchat", "sub", FLOOD, READY, "--broker", url, "-C", count]
    note(
        "mqchat sub",
        measure(Tool("mqchat sub", argv), port, flood_file, expected, n, work, timeout).seconds,
    )

    print("inspector (headless Textual app)…", file=sys.stderr)
    shown, ingested, dropped, keys = asyncio.run(_inspector_run(port, flood_file, n, work, timeout))
    note("inspector: status line total", shown)
    note("inspector: model ingested all", ingested)
    answered = ", ".join(f"{k * 1000:.0f} ms" for k in keys) or "never"
    print(f"  v pressed twice during the flood, answered in {answered}", file=sys.stderr)
    results.append((f"inspector: v pressed twice mid-flood, answered in {answered}", 0.0))
    if len(keys) < 2:
        raise BenchFailure("the inspector did not answer a key press during the flood")
    if dropped:
        print(f"  (the feed dropped {dropped:,} of them: buffer full)", file=sys.stderr)
        results.append((f"inspector: feed dropped {dropped:,} messages", 0.0))
    return results


# -- memory: a child process running the inspector -------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mem_topic(i: int) -> str:
    return f"mem/site/{i % 97}/dev{i:05d}/v"


def publish_worker(port: int, start: int, count: int, topics: int, size: int) -> None:
    """A raw MQTT 3.1.1 QoS 0 publisher: message i goes to topic i % topics."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        cid = f"bench-{uuid.uuid4().hex[:12]}".encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
        s.sendall(b"\x10" + _varint(len(body)) + body)
        if s.recv(4) != b"\x20\x02\x00\x00":
            raise SystemExit("no CONNACK")
        chunk: list[bytes] = []
        for i in range(start, start + count):
            t = mem_topic(i % topics).encode()
            payload = f'{{"seq":{i},"value":{i % 1000 / 10:.1f},"unit":"C"}}'.ljust(size).encode()
            body = len(t).to_bytes(2, "big") + t + payload
            chunk.append(b"\x30" + _varint(len(body)) + body)
            if len(chunk) == 5_000:
                s.sendall(b"".join(chunk))
                chunk.clear()
        s.sendall(b"".join(chunk) + b"\xe0\x00")
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # the broker closes after DISCONNECT: everything before it was read


async def _memory_worker(port: int, total: int, topics: int, size: int, timeout: float) -> dict:
    checkpoints = sorted({min(STEP, total), total})
    out: dict = {"base_rss": rss_mb(), "base_peak": peak_rss_mb(), "points": []}
    with tempfile.TemporaryDirectory(prefix="mqchat-flood-mem-") as tmp:
        app = _inspector_app(port, ["mem/#", READY], Path(tmp))
        async with app.run_test(size=(120, 40)):
            try:
                await _until(lambda: _shown_total(app) >= 1, 15, "the inspector was not subscribed")
                screen = app.inspector
                out["idle_rss"] = rss_mb()
                done, started = 0, time.perf_counter()
                while done < total:
                    step = min(STEP, total - done)
                    pub = subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--_publish",
                            json.dumps([port, done, step, topics, size]),
                        ]
                    )
                    try:
                        target = done + step + 1
                        await _until(
                            lambda target=target: (
                                _shown_total(app) >= target and screen.model.total >= target
                            ),
                            timeout,
                            f"the inspector did not show and ingest {target - 1:,} messages",
                        )
                    finally:
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            pub.wait(timeout=10)  # it exits once the broker has read it all
                        _stop(pub)
                    done += step
                    print(f"  memory: {done:,} messages, RSS {rss_mb():.1f} MB", file=sys.stderr)
                    if done in checkpoints:
                        store = screen.model.store
                        out["points"].append(
                            {
                                "messages": done,
                                "seconds": time.perf_counter() - started,
                                "rss": rss_mb(),
                                "peak": peak_rss_mb(),
                                "kept": store.kept,
                                "topics": store.topic_count,
                                "dropped": app.backend.dropped,
                            }
                        )
            finally:
                await app.inspector.stop_backend()
    return out


def memory(port: int, total: int, topics: int, size: int, timeout: float) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--_memory-worker",
            json.dumps([port, total, topics, size, timeout]),
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        timeout=timeout * (total // STEP + 2),
    )
    if proc.returncode != 0:
        raise BenchFailure(f"the memory worker exited with {proc.returncode}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------------


def report(args: argparse.Namespace, rates: list[tuple[str, float]], mem: dict | None) -> str:
    lines = [
        "mqchat inspector flood bench (issue 4)",
        machine_description(mosquitto_version()),
    ]
    if rates:
        ref = dict(rates)["mosquitto_sub"]
        lines += [
            "",
            f"drain rate: {args.messages:,} messages x {args.size} B, QoS 0, mosquitto_pub -l, "
            "one subscriber at a time, one run each",
            f"{'subscriber':<34}{'msg/s':>10}{'x mosquitto_sub':>17}  target",
            "-" * 72,
        ]
        for label, rate in rates:
            if not rate:
                lines.append(label)
                continue
            key = next((k for k in TARGETS if label.startswith(k)), None)
            ratio = rate / ref
            verdict = ""
            if key and label != "inspector: model ingested all":
                verdict = f">= x{TARGETS[key]:.2f} " + (
                    "meets" if ratio >= TARGETS[key] else "MISSES"
                )
            lines.append(f"{label:<34}{rate:>10,.0f}{'x' + format(ratio, '.2f'):>17}  {verdict}")
    if mem:
        lines += [
            "",
            f"memory: headless inspector (own process), {args.memory_total:,} messages x "
            f"{args.size} B over {args.memory_topics:,} topics, published in steps of "
            f"{STEP:,}; RSS before the app {mem['base_rss']:.1f} MB (peak "
            f"{mem['base_peak']:.1f}), app idle {mem['idle_rss']:.1f} MB",
            f"{'messages':>10}{'seconds':>9}{'RSS MB':>9}{'peak RSS MB':>13}{'kept':>9}"
            f"{'topics':>8}{'dropped':>9}",
            "-" * 67,
        ]
        for p in mem["points"]:
            lines.append(
                f"{p['messages']:>10,}{p['seconds']:>9.1f}{p['rss']:>9.1f}{p['peak']:>13.1f}"
                f"{p['kept']:>9,}{p['topics']:>8,}{p['dropped']:>9,}"
            )
        first, last = mem["points"][0], mem["points"][-1]
        lines.append(
            f"after {first['messages']:,}: peak {first['peak']:.1f} MB "
            + ("< 300 MB: meets" if first["peak"] < 300 else ">= 300 MB: MISSES")
        )
        if last is not first:
            grew = last["peak"] - first["peak"]
            lines.append(
                f"after {last['messages']:,}: peak {last['peak']:.1f} MB, {grew:+.1f} MB vs "
                f"{first['messages']:,} ("
                + ("no larger: meets" if grew <= 0 else "larger: MISSES")
                + f"; current RSS {last['rss'] - first['rss']:+.1f} MB)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_publish"]:
        publish_worker(*json.loads(argv[1]))
        return 0
    if argv[:1] == ["--_memory-worker"]:
        result = asyncio.run(_memory_worker(*json.loads(argv[1])))
        print(json.dumps(result), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="flood size (200000)")
    parser.add_argument("--size", type=int, default=100, help="payload bytes (100)")
    parser.add_argument("--memory-total", type=int, default=1_000_000, help="(1000000)")
    parser.add_argument("--memory-topics", type=int, default=10_000, help="(10000)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run (120)")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    for program in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if shutil.which(program) is None:
            print(f"{program} is not installed (apt-get install mosquitto mosquitto-clients)")
            return 1
    rates: list[tuple[str, float]] = []
    mem = None
    with tempfile.TemporaryDirectory(prefix="mqchat-inspector-flood-") as tmp:
        work = Path(tmp)
        try:
            with BenchBroker(work / "broker") as broker:
                subprocess.run(
                    ["mosquitto_pub", *_at(broker.port), "-t", READY, "-m", "ready", "-r"],
                    check=True,
                )
                # Memory first: Linux carries a process's peak RSS over fork + exec, so a
                # child started after the in-process drain runs would report the bench's.
                if not args.skip_memory:
                    print("memory (child process)…", file=sys.stderr)
                    mem = memory(
                        broker.port, args.memory_total, args.memory_topics, args.size, args.timeout
                    )
                if not args.skip_rate:
                    rates = drain_rates(broker.port, args.messages, args.size, work, args.timeout)
                    rates.append(
                        (
                            f"(bench process peak RSS after the drain runs: "
                            f"{peak_rss_mb():,.0f} MB)",
                            0.0,
                        )
                    )
        except (
            BenchFailure,
            RuntimeError,
            subprocess.CalledProcessError,
            subprocess.TimeoutExpired,
        ) as exc:
            print(f"inspector_flood: {exc}", file=sys.stderr)
            if rates or mem:
                print(report(args, rates, mem))
            return 1
        except KeyboardInterrupt:
            return 130
    print(report(args, rates, mem))
    return 0


if __name__ == "__main__":
    os.environ.pop("MQCHAT_BROKER", None)  # the bench names its own broker
    sys.exit(main())
