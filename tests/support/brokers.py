"""Brokers of the interop matrix besides tests/support/mosquitto.py's: NATS's MQTT gateway,
RabbitMQ's MQTT plugin and mqchat's own embedded broker (``mqchat serve --embedded`` in
a subprocess). Each runs on 127.0.0.1 and free ports with its own folder, and is
stopped by its pid. A pytest plugin too (tests/conftest.py loads it): the session's
RabbitMQ node is the ``rabbitmq`` fixture."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.mosquitto import free_port

__all__ = [
    "EmbeddedServe",
    "Nats",
    "RabbitMQ",
    "mqtt_answers",
    "rabbitmq",
    "require_nats",
    "require_rabbitmq",
]

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


def _wait_until_answering(
    proc: subprocess.Popen[bytes], port: int, what: str, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {err}")
        if mqtt_answers(port):
            return
        time.sleep(0.05)  # polling a port that is not open yet: nothing to await
    raise RuntimeError(f"{what} did not answer MQTT on {port} within {timeout:g} s")


def _stop(
    proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10
) -> int | None:
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
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


# --- RabbitMQ ----------------------------------------------------------------------------

# Debian's /usr/sbin/rabbitmq-server is a wrapper that, run as root, switches to the
# 'rabbitmq' user (who cannot write in a test's folder); the script behind it runs as
# whoever starts it.
_RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")


def _rabbitmq_server() -> str | None:
    script = _RABBITMQ_SCRIPTS / "rabbitmq-server"
    return str(script) if script.exists() else shutil.which("rabbitmq-server")


def rabbitmq_available() -> bool:
    return _rabbitmq_server() is not None and shutil.which("epmd") is not None


def require_rabbitmq() -> None:
    """Skip the calling test on a machine without RabbitMQ; under CI, fail it."""
    if rabbitmq_available():
        return
    reason = "rabbitmq-server is not installed (apt-get install -y rabbitmq-server)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the RabbitMQ interop tests", pytrace=False)
    pytest.skip(reason)


def _password_hash(password: str) -> str:
    """A password as RabbitMQ stores it (rabbit_password_hashing_sha256): a 4-byte
    salt, then SHA-256 of the salt and the password, in base64."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


@dataclass
class RabbitMQ:
    """A RabbitMQ node of its own with the MQTT plugin: its own node name, Erlang
    cookie, epmd, config, plugins, database and logs under ``folder``; the MQTT, AMQP,
    distribution and epmd ports free ones on 127.0.0.1. Never the system's node or
    its epmd. RabbitMQ checks every MQTT login, so each user a test logs in as has an
    account (``users``, loaded with the definitions at boot); a login without user
    name is ``guest``. Boots in ~10 s: the suite shares one (the ``rabbitmq`` fixture)."""

    folder: Path
    users: dict[str, str] = field(default_factory=dict)
    """Name -> password."""
    port: int = field(default_factory=free_port)
    """The MQTT port."""
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    epmd: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def node(self) -> str:
        return f"mqchat-test-{self.port}@localhost"

    def start(self, timeout: float = 90) -> RabbitMQ:
        server = _rabbitmq_server()
        if server is None:
            raise RuntimeError("rabbitmq-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        # Our own epmd, listening before the node looks for one: else Erlang would
        # start a shared one as a daemon.
        self.epmd = subprocess.Popen(
            ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.epmd, self.epmd_port, "epmd")
        self.proc = subprocess.Popen(
            [server], env=env, cwd=self.folder, stdin=subprocess.DEVNULL,
            stdout=(self.folder / "stdout.log").open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its Erlang VM and helpers: one process group
        )  # fmt: skip
        try:
            _wait_until_answering(self.proc, self.port, "rabbitmq-server", timeout)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}\n{self.log()[-3000:]}") from None
        return self

    def _environment(self) -> dict[str, str]:
        conf, plugins = self.folder / "rabbitmq.conf", self.folder / "enabled_plugins"
        definitions = self.folder / "definitions.json"
        accounts = {"guest": "guest", **self.users}
        definitions.write_text(
            json.dumps(
                {
                    "vhosts": [{"name": "/"}],
                    "users": [
                        {
                            "name": name,
                            "password_hash": _password_hash(password),
                            "hashing_algorithm": "rabbit_password_hashing_sha256",
                            "tags": "",
                        }
                        for name, password in accounts.items()
                    ],
                    "permissions": [
                        {"user": name, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
                        for name in accounts
                    ],
                }
            )
        )
        conf.write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            f"mqtt.listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "mqtt.allow_anonymous = true\n"
            "mqtt.default_user = guest\n"
            "mqtt.default_pass = guest\n"
            f"load_definitions = {definitions}\n"
        )
        plugins.write_text("[rabbitmq_mqtt].\n")
        (self.folder / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's
        (self.folder / "home").mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        return env | {
            "HOME": str(self.folder / "home"),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONF_ENV_FILE": str(self.folder / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(conf),
            "RABBITMQ_CONFIG_FILES": str(self.folder / "conf.d"),  # none, not /etc's
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.folder / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_PID_FILE": str(self.folder / "rabbitmq.pid"),
        }

    def stop(self) -> None:
        """Its script stops the node cleanly on SIGTERM; the VM and its helpers go
        with their process group if it does not; then its epmd."""
        if self.proc is not None:
            pgid = self.proc.pid  # start_new_session: the script leads the group
            _stop(self.proc, timeout=30)
            with contextlib.suppress(ProcessLookupError):  # all gone with the node
                os.killpg(pgid, signal.SIGKILL)
            self.proc = None
        _stop(self.epmd)
        self.epmd = None

    def log(self) -> str:
        logs = [self.folder / "stdout.log", *sorted((self.folder / "log").glob("*.log"))]
        return "\n".join(p.read_text(errors="replace") for p in logs if p.exists())


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # polling a port that is not open yet: nothing to await
    raise RuntimeError(f"{what} did not listen on {port} within 10 s")


RABBITMQ_USERS = ("alice", "bob", "carol", "tester")
"""The accounts of the session's node: the chat users of the interop tests, and the
login of their plain MQTT clients."""
RABBITMQ_PASSWORD = "mqchat-test"


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQ]:
    """One RabbitMQ node for the session (for each xdist worker that asks: the tests
    that use it are grouped on one worker, ``xdist_group``)."""
    require_rabbitmq()
    users = dict.fromkeys(RABBITMQ_USERS, RABBITMQ_PASSWORD)
    node = RabbitMQ(tmp_path_factory.mktemp("rabbitmq"), users=users).start()
    yield node
    node.stop()
