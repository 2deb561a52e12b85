"""A flood that waits in the broker: the subscriber is subscribed, then stopped
(SIGSTOP) while the whole flood is published; the clock starts when it is let go
(SIGCONT) and stops when it has all of it. The publisher's speed and the CPU it
takes are out of the figure: what is timed is how fast the subscriber drains a
broker that only writes, which is what a slow or busy machine cannot flatter.

mosquitto keeps QoS 0 messages for a connected subscriber that does not read
(``max_queued_messages 0``: without a bound), in its memory once the socket's
buffers are full, so nothing is lost while the subscriber is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bench.sub_rate import FLOOD, BenchFailure, Tool, _at, _stop, _wait_ready


def publish_all(port: int, flood_file: Path, timeout: float) -> None:
    """``mosquitto_pub -l`` the flood and wait until it has exited: it disconnects
    after its last message, and the broker routes each message before it reads on."""
    with flood_file.open("rb") as lines:
        done = subprocess.run(
            ["mosquitto_pub", *_at(port), "-t", FLOOD, "-q", "0", "-l"],
            stdin=lines,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise BenchFailure(f"mosquitto_pub exited with {done.returncode}")


def measure_preloaded(
    tool: Tool, port: int, flood_file: Path, expected: bytes, n: int, work: Path, timeout: float
) -> float:
    """Seconds a subprocess subscriber (``-C n+1``) takes to drain ``n`` waiting
    messages; its output must be the ready line and the flood, in order."""
    out, err = work / "sub.out", work / "sub.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        sub = subprocess.Popen(tool.argv, stdout=stdout, stderr=stderr)
    try:
        _wait_ready(out, sub, 15)
        os.kill(sub.pid, signal.SIGSTOP)
        try:
            publish_all(port, flood_file, timeout)
        finally:
            started = time.perf_counter()
            os.kill(sub.pid, signal.SIGCONT)
        try:
            sub.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            msg = f"{tool.label} did not get {n} messages within {timeout:g} s"
            raise BenchFailure(msg) from None
        seconds = time.perf_counter() - started
    finally:
        _stop(sub)
    if sub.returncode != 0:
        detail = err.read_text(errors="replace").strip()
        raise BenchFailure(f"{tool.label} exited with {sub.returncode}: {detail}")
    if out.read_bytes() != expected:
        raise BenchFailure(f"{tool.label} did not print the ready line and the {n} lines in order")
    return seconds
