"""Whether scrolling a long conversation keeps the TUI's memory flat: a real
``mqchat chat bob`` in tmux, against a private mosquitto, opens a conversation of
100,000 stored messages; End → Home → End, then PageUp held for 10 s, while the
process's RSS is sampled every 20 ms.

    .venv/bin/python bench/conversation_scroll.py [--messages N] [--hold S]

The history is written with the store API (``ChatStore.add_messages``, 2,000 per
transaction) into a temporary data dir before the TUI starts: one message a minute,
so they span ~70 days and the log has day separators; every 7th has three lines.
``idle`` is the TUI's RSS once the conversation shows and 2 s have passed; each row
prints the peak RSS during that step and its rise over idle, and how long the step
took until the screen showed its result. Holding PageUp is tmux sending the key
every 30 ms (a keyboard's auto-repeat); ``pages`` counts how far the top of the
screen got. Needs tmux and mosquitto; everything it starts is stopped by pid (tmux
by its own socket), and the temporary folder removed."""

from __future__ import annotations

import argparse
import asyncio
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: mqchat is not necessarily installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker  # noqa: E402
from mqchat.config.broker_url import parse_broker_url  # noqa: E402
from mqchat.config.paths import database_path  # noqa: E402
from mqchat.core.model import ChatMessage, DeliveryState, Direction  # noqa: E402
from mqchat.store.chat_store import ChatStore  # noqa: E402

BATCH = 2_000
LIMIT_MB = 30.0
NUMBER = re.compile(r"message (\d{6})")


def body(i: int) -> str:
    text = f"message {i:06d} " + "lorem ipsum dolor sit amet " * (1 + i % 3)
    return text + "\nsecond line\nthird line" if i % 7 == 0 else text


async def write_history(path: Path, count: int) -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    store = await ChatStore.open(path)
    try:
        await store.add_contact("bob", "Bob")
        for first in range(0, count, BATCH):
            batch = []
            for i in range(first, min(count, first + BATCH)):
                out = i % 3 == 0
                batch.append(
                    ChatMessage(
                        id=f"bench-{i:07d}",
                        peer="bob",
                        direction=Direction.OUT if out else Direction.IN,
                        sender="alice" if out else "bob",
                        recipient="bob" if out else "alice",
                        ts=start + timedelta(minutes=i),
                        body=body(i),
                        state=DeliveryState.READ,
                    )
                )
            await store.add_messages(batch)
    finally:
        await store.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tui_pid(shell: int) -> int:
    """The Python process under the tmux pane (the pane runs a shell first)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        todo = [shell]
        while todo:
            pid = todo.pop()
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            if b"mqchat" in cmd and b"chat" in cmd:
                return pid
            todo.extend(int(c) for c in children)
        time.sleep(0.05)
    raise RuntimeError("the mqchat process did not start")


class Sampler:
    """The peak RSS of ``pid`` since the last :meth:`peak`, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self._peak = max(self._peak, rss_mb(self.pid))
            except OSError:
                return

    def peak(self) -> float:
        peak, self._peak = max(self._peak, rss_mb(self.pid)), 0.0
        return peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Pane:
    def __init__(self, socket: Path, command: str) -> None:
        self.tmux = ["tmux", "-f", "/dev/null", "-S", str(socket)]
        self.run("new-session", "-d", "-s", "bench", "-x", "100", "-y", "30", command)

    def run(self, *args: str) -> str:
        return subprocess.run(
            [*self.tmux, *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "bench")

    def press(self, *keys: str) -> None:
        self.run("send-keys", "-t", "bench", *keys)

    def wait(self, condition: Callable[[str], bool], what: str, timeout: float = 60) -> float:
        """Seconds until the screen satisfies ``condition`` (polled: a terminal has no
        event to await)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if condition(self.screen()):
                return time.perf_counter() - started
            time.sleep(0.02)
        raise RuntimeError(f"no {what} within {timeout}s:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=10)


def numbers(screen: str) -> list[int]:
    return [int(n) for n in NUMBER.findall(screen)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--hold", type=float, default=10.0, help="seconds of PageUp")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None or shutil.which("mosquitto") is None:
        print("needs tmux and mosquitto (apt-get install -y tmux mosquitto)", file=sys.stderr)
        return 1
    last = args.messages - 1
    with tempfile.TemporaryDirectory(prefix="mqchat-scroll-") as tmp:
        folder = Path(tmp)
        with BenchBroker(folder / "broker") as broker:
            url = f"mqtt://{broker.host}:{broker.port}"
            data = folder / "data"
            db = database_path(data, parse_broker_url(url), "alice")
            started = time.perf_counter()
            asyncio.run(write_history(db, args.messages))
            print(
                f"mqchat conversation scroll: {args.messages:,} messages written in "
                f"{time.perf_counter() - started:.1f}s ({db.stat().st_size / 2**20:.0f} MiB)",
                flush=True,
            )
            env = "env -u TEXTUAL_THEME -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor"
            chat = [sys.executable, "-m", "mqchat", "chat", "bob", "--user", "alice"]
            chat += ["--broker", url, "--data-dir", str(data)]
            command = f"cd {shlex.quote(str(ROOT))} && {env} {shlex.join(chat)}"
            pane = Pane(folder / "tmux.sock", command)
            try:
                pid = tui_pid(int(pane.run("list-panes", "-t", "bench", "-F", "#{pane_pid}")))
                opened = pane.wait(lambda s: last in numbers(s), "conversation")
                time.sleep(2)
                sampler = Sampler(pid)
                idle = sampler.peak()
                print(f"opened in {opened:.2f}s; idle RSS {idle:.1f} MB", flush=True)
                print(f"{'step':<28} {'seconds':>8} {'peak RSS MB':>12} {'over idle':>10}")
                rows: list[tuple[str, float, float]] = []

                def step(name: str, seconds: float) -> None:
                    peak = sampler.peak()
                    rows.append((name, seconds, peak))
                    print(f"{name:<28} {seconds:>8.2f} {peak:>12.1f} {peak - idle:>+10.1f}")

                for key, name, done in (
                    ("End", "End (already newest)", lambda s: last in numbers(s)),
                    ("Home", "Home (oldest)", lambda s: 0 in numbers(s)),
                    ("End", "End (newest)", lambda s: last in numbers(s)),
                ):
                    started = time.perf_counter()
                    pane.press(key)
                    step(name, pane.wait(done, name))
                top = min(numbers(pane.screen()))
                started = time.perf_counter()
                presses = 0
                while time.perf_counter() - started < args.hold:
                    pane.press("PageUp")
                    presses += 1
                    time.sleep(0.03)
                held = time.perf_counter() - started
                settled = pane.wait(
                    lambda s: bool(numbers(s)) and min(numbers(s)) < top, "PageUp", 30
                )
                time.sleep(0.5)
                reached = min(numbers(pane.screen()))
                step(f"PageUp held {args.hold:.0f}s", held + settled)
                sampler.stop()
                print(
                    f"PageUp: {presses} presses, top of screen message {top:,} → "
                    f"{reached:,} ({top - reached:,} messages back)"
                )
                worst = max(peak for _, _, peak in rows) - idle
                verdict = "ok" if worst < LIMIT_MB else "OVER"
                print(f"worst rise over idle: {worst:+.1f} MB (limit +{LIMIT_MB:.0f}): {verdict}")
                pane.press("C-q")
                return 0 if worst < LIMIT_MB else 1
            finally:
                pane.close()


if __name__ == "__main__":
    sys.exit(main())
