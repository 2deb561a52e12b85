"""A private mosquitto for tests: 127.0.0.1, a free port, its own config and folder,
stopped by its pid. Never the system broker, never a fixed port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Mosquitto", "free_port", "mosquitto_available", "require_mosquitto"]


def mosquitto_available() -> bool:
    return shutil.which("mosquitto") is not None


def require_mosquitto() -> None:
    """Skip the calling test on a machine without mosquitto; under CI, fail it."""
    if mosquitto_available():
        return
    import pytest

    reason = "mosquitto is not installed (apt-get install -y mosquitto mosquitto-clients)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the broker tests", pytrace=False)
    pytest.skip(reason)


# Ports for test brokers come from a block of their own per xdist worker, below the
# kernel's ephemeral range (32768-60999 here). A port from bind(("127.0.0.1", 0)) is
# an ephemeral one: once a broker that a test stops to restart has let it go, another
# worker's bind(0) could be handed it and start a broker of its own there, and the
# test's clients would reconnect to a stranger (seen in CI as "bad user name or
# password"). Below the ephemeral range, nothing but this worker hands these out.
_PORT_BASE = 12000
_PORT_BLOCK = 2000
_next_port: list[int] = []


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = worker.removeprefix("gw")
    return int(digits) % 10 if digits.isdigit() else 0


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on, from this worker's own block, not
    handed out again by this worker for a long while (the block is walked round)."""
    first = _PORT_BASE + _worker_index() * _PORT_BLOCK
    if not _next_port:
        # a random start, so that two test runs side by side rarely meet
        _next_port.append(int.from_bytes(os.urandom(2), "big") % _PORT_BLOCK)
    for _ in range(_PORT_BLOCK):
        port = first + _next_port[0]
        _next_port[0] = (_next_port[0] + 1) % _PORT_BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{first + _PORT_BLOCK - 1}")


@dataclass
class Mosquitto:
    folder: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    users: dict[str, str] | None = None  # name -> password; then no anonymous logins
    max_queued: int = 0
    """mosquitto's ``max_queued_messages`` per client; 0: no limit (tests must not
    lose messages to a queue limit unless that is what they test)."""
    proc: subprocess.Popen[bytes] | None = None
    started: bool = False

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        """Start it; on its first start, a port another process took between
        :func:`free_port` and mosquitto's bind (tests run in parallel) is swapped for
        another free one. A restart keeps its port: clients reconnect to it."""
        first = not self.started
        for attempt in range(3):
            try:
                self._start()
                self.started = True
                return self
            except RuntimeError as exc:
                if not first or attempt == 2 or "in use" not in f"{exc}\n{self.log()}":
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start(self) -> Mosquitto:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.users else 'true'}",
            "persistence true",
            f"persistence_location {self.folder}/",
            f"log_dest file {self.folder / 'mosquitto.log'}",
            "log_type all",
            f"max_queued_messages {self.max_queued}",
            # as every mosquitto.conf mqchat writes (serve, broker-config): chat is small
            # packets each waiting for an answer, which Nagle's algorithm holds back
            "set_tcp_nodelay true",
        ]
        if self.users:
            passwd = self.folder / "passwd"
            passwd.write_text("")
            for name, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwd), name, password], check=True)
            lines.append(f"password_file {passwd}")
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to 'mosquitto' and cannot write here
        conf.write_text("\n".join(lines) + "\n" + self.extra_config)
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self, port: int | None = None, timeout: float = 10.0) -> None:
        """Until ``port`` (default: the MQTT port) takes connections."""
        port = self.port if port is None else port
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)  # polling a port that is not open yet: nothing to await
        raise RuntimeError(f"mosquitto did not listen on {port} within {timeout}s\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""
