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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mosquitto:
    folder: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    users: dict[str, str] | None = None  # name -> password; then no anonymous logins
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        """Start it; on its first start, a port another process took between
        :func:`free_port` and mosquitto's bind (tests run in parallel) is swapped for
        another free one. A restart keeps its port: clients reconnect to it."""
        first = self.proc is None
        for attempt in range(3):
            try:
                return self._start()
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
            "max_queued_messages 0",
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
