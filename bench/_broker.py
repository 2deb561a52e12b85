"""A private mosquitto for the benchmarks: 127.0.0.1, a free port, a throw-away folder,
stopped by its pid. Unlike the tests' broker it logs only errors and keeps nothing on
disk, so the broker's own file writes are not part of the figures."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from mqchat.broker.local import die_with_parent

__all__ = ["BenchBroker", "mosquitto_version"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_version() -> str:
    """``2.0.11`` or so, from ``mosquitto -h``; ``unknown`` if it cannot tell."""
    try:
        out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("mosquitto version"):
            return line.split()[-1]
    return "unknown"


class BenchBroker:
    """``with BenchBroker(folder) as broker:`` — a running mosquitto on ``broker.port``."""

    def __init__(self, folder: Path, *, nodelay: bool = False) -> None:
        self.folder = folder
        self.nodelay = nodelay
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BenchBroker:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence false",
            f"log_dest file {self.folder / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            # the default (1000) silently drops a burst beyond it to a slow subscriber
            "max_queued_messages 0",
        ]
        if self.nodelay:  # as in every mosquitto.conf mqchat writes (serve, broker-config)
            lines.append("set_tcp_nodelay true")
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to 'mosquitto' and cannot write here
        conf.write_text("\n".join(lines) + "\n")
        with (self.folder / "stderr.log").open("wb") as err:
            self.proc = subprocess.Popen(
                ["mosquitto", "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=die_with_parent(),  # called before any thread starts
            )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self, timeout: float = 10.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = (self.folder / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)  # the port is not open yet; nothing to await
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> BenchBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            self.stop()
