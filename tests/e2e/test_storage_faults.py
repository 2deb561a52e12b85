"""A history that cannot be opened, read or written, in every command that uses one,
run as a person runs them (the TUI in a terminal of its own): one line naming the
file and saying what to do, exit 1, never a traceback. No broker is needed: the
history fails before anything connects."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.paths import database_path
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore
from tests.support.cli import ROOT, mqchat
from tests.support.mounts import remount_read_only, tmpfs
from tests.support.terminal import run_in_terminal

NOWHERE = "mqtt://127.0.0.1:1"  # nothing listens: nothing could connect anyway
COMMANDS = {
    "chat": ["chat"],
    "send": ["send", "bob", "hello"],
    "history": ["history", "bob"],
    "search": ["search", "hello"],
}


def history_of(data: Path) -> Path:
    return database_path(data, parse_broker_url(NOWHERE), "alice")


@dataclass(frozen=True)
class Fault:
    data: Path
    """The --data-dir to give."""
    says: Callable[[str], str]
    """The part of the line expected for a command."""


def corrupt(tmp_path: Path) -> Iterator[Fault]:
    data = tmp_path / "data"
    path = history_of(data)
    path.parent.mkdir(parents=True)
    path.write_text("these are not the bytes of a database\n" * 100)
    yield Fault(
        data,
        lambda _: (
            f"{path}: file is not a database; it is damaged or not an mqchat history: move it away"
        ),
    )


def data_dir_is_a_file(tmp_path: Path) -> Iterator[Fault]:
    data = tmp_path / "data"
    data.write_text("")
    yield Fault(
        data,
        lambda _: (
            f"{history_of(data)}: {data} is a file, not a folder; move it away, or "
            "choose another data dir (--data-dir)"
        ),
    )


def read_only(tmp_path: Path) -> Iterator[Fault]:
    with tmpfs(tmp_path / "disk") as disk:

        async def write_one() -> None:
            async with await ChatStore.open(history_of(disk), within=disk) as store:
                await store.add_contact("bob")

        asyncio.run(write_one())
        remount_read_only(disk)
        yield Fault(
            disk,
            lambda _: (
                f"{history_of(disk)}: Read-only file system; make it writable, or "
                "choose another data dir (--data-dir)"
            ),
        )


def missing_parent(tmp_path: Path) -> Iterator[Fault]:
    # A new user's data dir, its parent missing, on a disk where it cannot be made.
    with tmpfs(tmp_path / "disk") as disk:
        remount_read_only(disk)
        data = disk / "missing" / "data"

        def says(command: str) -> str:
            if command in ("history", "search"):  # they only read: nothing is there
                return f"no history for alice on 127.0.0.1:1 ({history_of(data)})"
            return (
                f"{history_of(data)}: Read-only file system ({disk / 'missing'}); make it "
                "writable, or choose another data dir (--data-dir)"
            )

        yield Fault(data, says)


FAULTS = {
    "corrupt": corrupt,
    "read-only": read_only,
    "missing-parent": missing_parent,
    "data-dir-is-a-file": data_dir_is_a_file,
}


@pytest.fixture(params=list(FAULTS))
def fault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fault]:
    yield from FAULTS[request.param](tmp_path)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    return env | {"MQCHAT_CONFIG": "/nonexistent/mqchat/config.toml"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_broken_history_is_one_line_and_exit_1(fault: Fault, command: str) -> None:
    args = [*COMMANDS[command], "--user", "alice", "--broker", NOWHERE]
    if command == "chat":
        env = clean_env() | {"TERM": "xterm-256color", "MQCHAT_DATA_DIR": str(fault.data)}
        run = run_in_terminal([sys.executable, "-m", "mqchat", *args], env=env, timeout=40)
        status, lines, everything = run.returncode, run.after_screen, run.output
    else:
        done = mqchat(*args, data=fault.data, env={"MQCHAT_CONFIG": "/nonexistent/c.toml"})
        status, lines, everything = done.returncode, done.stderr.splitlines(), done.stderr
        assert done.stdout == ""
    assert "Traceback" not in everything
    assert len(lines) == 1, everything[-3000:]
    prefix = "mqchat: not sent: " if command == "send" else "mqchat: "
    assert lines[0].startswith(prefix), lines
    assert fault.says(command) in lines[0]
    assert status == 1
    assert not (fault.data / "crash.log").exists()  # no bug: nothing to report


def test_history_and_search_into_a_reader_that_stops_early_end_quietly(tmp_path: Path) -> None:
    # `mqchat history … | head -1` used to end in a BrokenPipeError traceback.
    data = tmp_path / "data"

    async def write_many() -> None:
        async with await ChatStore.open(history_of(data), within=data) as store:
            await store.add_messages([hello(n) for n in range(5000)])

    asyncio.run(write_many())
    for command in (["history", "bob"], ["search", "hello", "--limit", "5000"]):
        argv = [sys.executable, "-m", "mqchat", *command, "--user", "alice", "--broker", NOWHERE]
        argv += ["--data-dir", str(data)]
        done = subprocess.run(
            f'{shlex.join(argv)} | head -1; echo "status ${{PIPESTATUS[0]}}" >&2',
            shell=True,
            executable="/bin/bash",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=clean_env(),
            timeout=60,
        )
        assert done.stdout.count("\n") == 1 and "hello" in done.stdout, done
        assert done.stderr == "status 141\n", done.stderr  # as mosquitto_sub | head


def hello(n: int) -> ChatMessage:
    return ChatMessage(
        id=f"m{n:05d}",
        peer="bob",
        direction=Direction.IN,
        sender="bob",
        recipient="alice",
        ts=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        body=f"hello {n}",
        state=DeliveryState.READ,
    )
