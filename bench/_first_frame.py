"""How long ``mqchat chat bob`` takes to show the conversation over a big history: a
real process in a pseudo-terminal, timed from its start until the newest message of
the history is on the screen (its text is in what the process wrote)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from bench._broker import BenchBroker
from bench._common import BenchError
from bench._report import Startup
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.store import ChatStore

__all__ = ["first_frame_label", "first_frame_phase"]

_SIZE = (40, 120)  # rows, columns
_UNREAD = 10
"""The newest incoming messages are unread; the rest was read long ago. Few enough
that "new since you last looked" and all of them fit on the screen, so the
conversation opens at its end, where the newest message is."""
_QUIT = b"\x11"  # ctrl+q


def first_frame_label(history: int) -> str:
    return f"mqchat chat bob over {history:,} messages"


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _write_history(settings: Settings, count: int) -> str:
    """alice's database with ``count`` messages with bob, one a minute up to now,
    every other one incoming; returns the text of the newest one."""
    store = await ChatStore.open(settings.database, within=settings.data_dir)
    try:
        await store.add_contact("bob")
    finally:
        await store.close()
    newest = f"the newest message of the history {secrets.token_hex(4)}"
    start_ms = int(time.time() * 1000) - count * 60_000

    def fill() -> None:
        with contextlib.closing(sqlite3.connect(settings.database)) as conn, conn:
            conn.execute(
                """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
                INSERT INTO messages (id, conversation, direction, sender, recipient, ts_ms,
                                      body, state, received_at_ms)
                SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'bob',
                       iif(i % 2, 'in', 'out'), iif(i % 2, 'bob', 'alice'),
                       iif(i % 2, 'alice', 'bob'), ? + i * 60000,
                       iif(i = ? - 1, ?, printf('message %d of a long conversation', i)),
                       iif(i % 2, iif(i >= ? - ?, 'received', 'read'), 'read'),
                       ? + i * 60000
                FROM n
                """,
                (count, start_ms, count, newest, count, _UNREAD * 2, start_ms),
            )

    await asyncio.to_thread(fill)
    return newest


def _child_env(work: Path, namespace: str) -> dict[str, str]:
    """The environment of an installed mqchat: its own empty config, bytecode cached
    (an installed package has it; the first run, not measured, writes it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for size in ("COLUMNS", "LINES"):  # the pseudo-terminal's own size, not the caller's
        env.pop(size, None)
    config = work / "config.toml"
    config.write_text("")
    env |= {
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "MQCHAT_CONFIG": str(config),
        "MQCHAT_NAMESPACE": namespace,
    }
    return env


def _launch_once(
    argv: list[str], env: dict[str, str], marker: bytes, timeout: float
) -> tuple[float, float]:
    """Seconds from starting ``argv`` in a pseudo-terminal until ``marker`` was
    written, and the CPU seconds it used by then; then it is asked to quit (and
    stopped by its pid if it does not)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *_SIZE, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            left = started + timeout - time.perf_counter()
            ready, _, _ = select.select([master], [], [], max(0.0, left))
            if not ready:
                raise BenchError(f"the conversation did not show within {timeout:.0f}s")
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the terminal closed: the process ended
                chunk = b""
            if not chunk:
                tail = seen[-300:].decode(errors="replace")
                raise BenchError(f"mqchat chat exited ({proc.wait()}) before showing: {tail}")
            seen = seen[-len(marker) :] + chunk
            if marker in seen:
                return time.perf_counter() - started, _cpu_seconds(proc.pid)
    finally:
        _stop(proc, master)


def _stop(proc: subprocess.Popen[bytes], master: int) -> None:
    with contextlib.suppress(OSError):
        os.write(master, _QUIT)
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)  # drain, so it can write
        if ready:
            with contextlib.suppress(OSError):
                os.read(master, 1 << 16)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    os.close(master)


async def first_frame_phase(
    broker: BenchBroker, ns: str, work: Path, history: int, runs: int, timeout: float
) -> Startup:
    """``runs`` measured starts (after one that is not) over ``history`` messages."""
    work.mkdir(parents=True, exist_ok=True)
    url = f"mqtt://{broker.host}:{broker.port}"
    settings = Settings(
        broker=parse_broker_url(url), user="alice", data_dir=work / "data", namespace=ns
    )
    print(f"first frame: writing a history of {history:,} messages", file=sys.stderr)
    newest = await _write_history(settings, history)
    argv = [sys.executable, "-m", "mqchat", "chat", "bob", "--broker", url, "--user", "alice"]
    argv += ["--data-dir", str(settings.data_dir)]
    env = _child_env(work, ns)
    print(f"first frame: {runs} starts of mqchat chat bob (and one to warm up)", file=sys.stderr)
    times, cpu = [], []
    for i in range(runs + 1):
        took, used = await asyncio.to_thread(_launch_once, argv, env, newest.encode(), timeout)
        if i:
            times.append(took)
            cpu.append(used)
    return Startup(first_frame_label(history), times, cpu)
