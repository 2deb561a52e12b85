"""What the flight recorder costs the inspector's live view (issue 17: at most 20 % of
its ingest rate): the screen's ingest path (``InspectorView.ingest`` of batches of
2,000 messages, as its timer takes them) timed without and with the recorder on, in
alternating rounds in one process. With it on, each batch is also handed to
``Recorder.add`` and written to a file by the recorder's thread, which competes for
the same interpreter; the rate counts until the last message is ingested, and the
recorder's close (writing what is still queued) is timed apart.

    .venv/bin/python bench/record_cost.py [--messages 200000] [--topics 10000] [--rounds 3]

The messages are made before timing: ~100-byte JSON payloads over many topics, some
with MQTT 5 properties, as fresh objects the way a network client hands them over."""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: mqchat is not necessarily installed
    sys.path.insert(0, str(ROOT))

from mqchat.core.message import Message  # noqa: E402
from mqchat.inspector.model import InspectorModel  # noqa: E402
from mqchat.inspector.recorder import Recorder  # noqa: E402
from mqchat.inspector.view import InspectorView  # noqa: E402

CHUNK = 2_000  # the screen's take per call


def make(n: int, topics: int, seed: int) -> list[list[Message]]:
    rng = random.Random(seed)
    names = [f"site/{i % 97}/dev{i:05d}/temperature" for i in range(topics)]
    now = time.time()
    out, batch = [], []
    for seq in range(n):
        payload = b'{"seq":%d,"value":%.2f,"unit":"C","battery":%d,"status":"ok","fw":"1.4.2"}' % (
            seq,
            rng.uniform(-20, 40),
            rng.randrange(100),
        )
        props = {"ContentType": "application/json"} if seq % 10 == 0 else None
        topic = "".join(names[rng.randrange(topics)])
        batch.append(Message(topic, payload, seq % 2, False, props, now + seq * 1e-5))
        if len(batch) == CHUNK:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def run(batches: list[list[Message]], folder: Path | None) -> tuple[float, float, float, int]:
    """Messages per second through the view (recording to ``folder`` if given) by the
    wall clock and by the process's CPU time (every thread, the recorder's close
    included: what a busy machine's other processes cannot blur), the seconds the
    recorder's close took, and the file's size."""
    view = InspectorView(InspectorModel())
    recorder = Recorder(folder / f"r{time.monotonic_ns()}.mqrec", {}) if folder else None
    total = sum(len(b) for b in batches)
    cpu = time.process_time()
    started = time.perf_counter()
    for batch in batches:
        if recorder is not None:
            recorder.add(batch)
        view.ingest(batch)
    spent = time.perf_counter() - started
    closing = 0.0
    size = 0
    if recorder is not None:
        t = time.perf_counter()
        recorder.close()
        closing = time.perf_counter() - t
        size = recorder.size
        assert recorder.written == total, (recorder.written, total)
    return total / spent, total / (time.process_time() - cpu), closing, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        f"recording cost on the inspector's ingest: {args.messages:,} messages over "
        f"{args.topics:,} topics, {args.rounds} rounds each, Python {sys.version.split()[0]}"
    )
    off, on, off_cpu, on_cpu = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="mqchat-rec-cost-") as tmp:
        for r in range(args.rounds):
            for recording in (False, True) if r % 2 == 0 else (True, False):
                batches = make(args.messages, args.topics, seed=r)
                gc.collect()  # the last round's model is not collected during this one
                rate, cpu_rate, closing, size = run(batches, Path(tmp) if recording else None)
                (on if recording else off).append(rate)
                (on_cpu if recording else off_cpu).append(cpu_rate)
                what = "recording" if recording else "not recording"
                extra = f"; close {closing * 1000:.0f} ms, file {size:,} B" if recording else ""
                print(
                    f"  round {r + 1}, {what:>13}: {rate:>10,.0f} msg/s, "
                    f"{cpu_rate:>10,.0f} msg/CPU-s{extra}",
                    flush=True,
                )
    for unit, (x, y) in (("msg/s", (off, on)), ("msg/CPU-s", (off_cpu, on_cpu))):
        a, b = statistics.median(x), statistics.median(y)
        print(
            f"median: {a:,.0f} {unit} off, {b:,.0f} recording: {b / a:.2f}x ({1 - b / a:.0%} cost)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
