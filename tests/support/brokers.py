"""Brokers of the interop matrix besides tests/support/mosquitto.py's: NATS's MQTT gateway and
mqchat's own embedded broker (``mqchat serve --embedded`` in a subprocess). Each runs
on 127.0.0.1 and free ports with its own folder, and is stopped by its pid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.mosquitto import free_port

__all__ = ["EmbeddedServe", "Nats", "mqtt_answers", "require_nats"]

ROOT = Path(__file__).resolve().parents[2]

# MQTT 3.1.1 CONNECT, clean session, keepalive 60, client id "probe"
_CONNECT = bytes([0x10, 17, 0, 4, *b"MQTT", 4, 2, 0, 60, 0, 5, *b"probe"])
_DISCONNECT = bytes([0xE0, 0])


def mqtt_answers(port: int, timeout: float = 1.0) -> bool:
    """Something on ``port`` answers an MQTT 3.1.1 CONNECT with a CONNACK: a broker
    that is really up (NATS opens its port before its MQTT side is ready)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(_CONNECT)
            ack = sock.recv(4)
            sock.sendall(_DISCONNECT)
            return ack[:1] == b"\x20"
    except OSError:
        return False


def _wait_until_answering(proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {err}")
        if mqtt_answers(port):
            return
        time.sleep(0.05)  # polling a port that is not open yet: nothing to await
    raise RuntimeError(f"{what} did not answer MQTT on {port} within 20 s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> int | None:
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    return proc.returncode


def nats_available() -> bool:
    return shutil.which("nats-server") is not None


def require_nats() -> None:
    """Skip the calling test on a machine without nats-server; under CI, fail it."""
    if nats_available():
        return
    import pytest

    reason = "nats-server is not installed (apt-get install -y nats-server)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the NATS interop tests", pytrace=False)
    pytest.skip(reason)


@dataclass
class Nats:
    """nats-server with JetStream (which its MQTT sessions need) and an MQTT listener."""

    folder: Path
    port: int = field(default_factory=free_port)
    """The MQTT port."""
    client_port: int = field(default_factory=free_port)
    """NATS's own protocol, unused but bound: 127.0.0.1 rather than its default 0.0.0.0."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Nats:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nats.conf"
        conf.write_text(
            f"server_name: mqchat_test_{self.port}\n"
            f"listen: 127.0.0.1:{self.client_port}\n"
            f'jetstream {{\n  store_dir: "{self.folder / "js"}"\n}}\n'
            f"mqtt {{\n  listen: 127.0.0.1:{self.port}\n}}\n"
        )
        self.proc = subprocess.Popen(
            ["nats-server", "-c", str(conf), "-l", str(self.folder / "nats.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # The first MQTT connection also makes NATS create its session streams.
        _wait_until_answering(self.proc, self.port, "nats-server")
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def log(self) -> str:
        path = self.folder / "nats.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class EmbeddedServe:
    """``mqchat serve --embedded`` as a user runs it, on a free port."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedServe:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mqchat", "serve", "--embedded", "--port", str(self.port),
             "--data-dir", str(self.folder)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
        )  # fmt: skip
        _wait_until_answering(self.proc, self.port, "mqchat serve --embedded")
        return self

    def stop(self, sig: int = signal.SIGINT) -> int | None:
        """Stop it as Ctrl+C does; returns its exit status."""
        status = _stop(self.proc, sig)
        self.proc = None
        return status
