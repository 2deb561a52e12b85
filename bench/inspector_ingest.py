"""How fast the inspector's pure model ingests, and whether its memory stays flat:
synthetic messages over many topics go through ``InspectorModel.ingest`` (capture
store, topic tree and msg/s meter), with the rate and the process's RSS printed at
checkpoints. No broker, no TUI: the ceiling the inspector's own code sets.

    .venv/bin/python bench/inspector_ingest.py [--messages N] [--topics T] [--seed S]

Each chunk of messages is made before it is timed, as fresh ``str`` and ``bytes``
objects the way a network client hands them over; ``msg/s`` counts ingest time only.
``peak RSS`` is ``getrusage(RUSAGE_SELF).ru_maxrss``, ``RSS`` the current resident
size; ``base`` is the process before the first message."""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: mqchat is not necessarily installed
    sys.path.insert(0, str(ROOT))

from mqchat.inspector.model import InspectorModel  # noqa: E402

CHUNK = 10_000
CHECKPOINTS = (100_000, 200_000, 500_000, 1_000_000)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * resource.getpagesize() / (1024 * 1024)


def topic_names(count: int) -> list[str]:
    """Four levels, like a fleet of sensors: ``site/17/dev01234/temperature``."""
    kinds = ("temperature", "humidity", "power", "state")
    return [f"site/{i % 97}/dev{i:05d}/{kinds[i % 4]}" for i in range(count)]


def make_chunk(
    rng: random.Random, topics: list[str], start: int, size: int
) -> list[tuple[str, bytes]]:
    """``size`` messages of ~100 bytes; every topic and payload a new object."""
    chunk = []
    for seq in range(start, start + size):
        topic = topics[rng.randrange(len(topics))]
        payload = b'{"seq":%d,"value":%.2f,"unit":"C","battery":%d,"status":"ok","fw":"1.4.2"}' % (
            seq,
            rng.uniform(-20, 40),
            rng.randrange(100),
        )
        chunk.append(("".join(topic), payload))  # join: a fresh str, as paho decodes one
    return chunk


class _Everything:
    """Every path is expanded: the tree lists all its nodes."""

    def __contains__(self, _: object) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    topics = topic_names(args.topics)
    model = InspectorModel()
    store = model.store
    base = rss_mb()
    print(
        f"mqchat inspector ingest: {args.messages:,} messages over {args.topics:,} topics, "
        f"Python {sys.version.split()[0]}"
    )
    print(
        f"caps: {store.per_topic} per topic, {store.max_kept:,} messages, "
        f"{store.max_bytes // (1024 * 1024)} MiB payloads, {store.max_topics:,} topics; "
        f"base RSS {base:.1f} MB"
    )
    print(
        f"{'messages':>10} {'msg/s':>10} {'kept':>8} {'kept MiB':>9} {'topics':>7} "
        f"{'tree nodes':>10} {'RSS MB':>7} {'peak RSS MB':>11}"
    )
    ingest = model.ingest
    spent = 0.0
    done = 0
    checkpoints = [c for c in CHECKPOINTS if c < args.messages] + [args.messages]
    while done < args.messages:
        size = min(CHUNK, args.messages - done)
        chunk = make_chunk(rng, topics, done, size)
        now = time.time()
        started = time.perf_counter()
        for topic, payload in chunk:
            ingest(topic, payload, 0, False, None, now)
        spent += time.perf_counter() - started
        done += size
        del chunk
        if checkpoints and done >= checkpoints[0]:
            checkpoints.pop(0)
            nodes = len(model.tree.visible_rows(_Everything()))
            print(
                f"{done:>10,} {done / spent:>10,.0f} {store.kept:>8,} "
                f"{store.kept_bytes / (1024 * 1024):>9.1f} {store.topic_count:>7,} "
                f"{nodes:>10,} {rss_mb():>7.1f} {peak_rss_mb():>11.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
