"""A local MQTT broker to try mqchat on (``mqchat serve``, ``mqchat demo``): mosquitto
with a generated config when it is installed, otherwise the embedded pure-Python
broker (amqtt, see embedded_broker.py). One API for both: :func:`start_broker`
returns a :class:`RunningBroker` with the URL to give the clients."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from mqchat.broker.embedded import EmbeddedBroker

__all__ = [
    "EMBEDDED_DATABASE",
    "SERVE_MAX_QUEUED",
    "BrokerKind",
    "BrokerStartError",
    "RunningBroker",
    "broker_url",
    "check_port_free",
    "die_with_parent",
    "mosquitto_available",
    "pick_free_port",
    "render_serve_config",
    "running_broker",
    "start_broker",
]

SERVE_MAX_QUEUED = 100_000
"""Messages mosquitto queues per offline client (its default, 1000, drops the rest
silently): a friend away for a week still gets every chat message."""

EMBEDDED_DATABASE = "embedded-broker.sqlite3"
"""Where, in the data folder, the embedded broker keeps sessions and retained messages."""

_READY_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class BrokerKind(StrEnum):
    MOSQUITTO = "mosquitto"
    EMBEDDED = "embedded"


class BrokerStartError(Exception):
    """The broker could not start, as one line a person can act on."""


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when the thread that
    started it ends, so even a killed mqchat (a closed terminal, SIGKILL) leaves no
    broker behind; ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def mosquitto_available() -> bool:
    return shutil.which("mosquitto") is not None


def broker_url(host: str, port: int) -> str:
    """The URL clients connect to: a wildcard address (listen everywhere) is reached
    through the loopback one; an IPv6 address goes in brackets."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"mqtt://[{host}]:{port}" if ":" in host else f"mqtt://{host}:{port}"


def _bind_probe(host: str, port: int) -> socket.socket:
    """A socket bound the way a broker binds (SO_REUSEADDR, as both mosquitto and
    asyncio do, so a port in TIME_WAIT counts as free). Raises OSError."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`BrokerStartError` if ``host:port`` cannot be listened on."""
    try:
        _bind_probe(host, port).close()
    except socket.gaierror:
        raise BrokerStartError(f"unknown host {host!r} to listen on") from None
    except PermissionError:
        raise BrokerStartError(
            f"not allowed to listen on port {port} (ports below 1024 need root); "
            "choose another with --port"
        ) from None
    except OSError as exc:
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise BrokerStartError(
                f"{host}:{port} is already in use (is another broker running?); choose "
                "another port with --port, or --port 0 for any free one"
            ) from None
        raise BrokerStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def pick_free_port(host: str) -> int:
    """A port nothing listens on now, chosen by the system."""
    try:
        with _bind_probe(host, 0) as sock:
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise BrokerStartError(f"cannot listen on {host}: {exc}") from None


def render_serve_config(
    host: str, port: int, data_dir: Path, log_file: Path, *, as_root: bool = False
) -> str:
    """The mosquitto.conf of ``mqchat serve``: one listener, anonymous logins, and
    persistence in ``data_dir`` so what is queued for an offline friend survives a
    restart of the broker."""
    lines = [
        "# Written by `mqchat serve`: a broker to try mqchat on, open to anyone who can",
        "# reach the listener. For a shared server see `mqchat broker-config mosquitto`.",
        f"listener {port} {host}",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {data_dir}/",
        # mosquitto writes its database on exit and then only every 30 minutes;
        # a crash between the two would lose what it queued for offline clients.
        "autosave_interval 60",
        f"max_queued_messages {SERVE_MAX_QUEUED}",
        # chat is many small packets each waiting for an answer (see connection.py)
        "set_tcp_nodelay true",
        f"log_dest file {log_file}",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if as_root:
        # Started as root, mosquitto drops to the `mosquitto` user, which cannot
        # write the data folder of the user who started it.
        lines.append("user root")
    return "\n".join(lines) + "\n"


class RunningBroker(ABC):
    """A broker started by :func:`start_broker`. ``await stop()`` (or leaving ``async
    with``) stops it; :meth:`wait_closed` returns if it ends on its own."""

    kind: BrokerKind
    host: str
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        """What to give ``mqchat --broker``."""
        return broker_url(self.host, self.port)

    @property
    @abstractmethod
    def description(self) -> str:
        """One line for a person: which broker, and what it keeps."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop the broker (idempotent)."""

    @abstractmethod
    async def wait_closed(self) -> str:
        """Wait until the broker ends without being asked to; returns why."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class _Mosquitto(RunningBroker):
    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.kind = BrokerKind.MOSQUITTO
        self.host, self.port, self.data_dir = host, port, data_dir
        self._folder = Path(tempfile.mkdtemp(prefix="mqchat-serve-"))
        self._log = self._folder / "mosquitto.log"
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def description(self) -> str:
        return f"mosquitto (MQTT 5 and 3.1.1), queued messages kept in {self.data_dir}"

    async def start(self) -> None:
        conf = self._folder / "mosquitto.conf"
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        conf.write_text(
            render_serve_config(self.host, self.port, self.data_dir, self._log, as_root=as_root)
        )
        self._proc = await asyncio.create_subprocess_exec(
            "mosquitto",
            "-c",
            str(conf),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # Its own session: Ctrl+C in the terminal reaches us, and we stop it in
            # order (its database written) rather than both racing to exit.
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        try:
            await self._until_listening()
        except BaseException:
            await self.stop()
            raise

    async def _until_listening(self) -> None:
        proc = self._proc
        assert proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _READY_TIMEOUT
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise BrokerStartError(f"mosquitto did not start: {await self._last_words()}")
            try:
                _reader, writer = await asyncio.open_connection(self.host or "127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)  # polling a port that is not open yet
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise BrokerStartError(
            f"mosquitto did not listen on port {self.port} within "
            f"{_READY_TIMEOUT:g} s: {await self._last_words()}"
        )

    async def _last_words(self) -> str:
        """Why mosquitto stopped: the signal that killed it, else what it said (its
        stderr, else its log's last line)."""
        proc = self._proc
        if proc is not None and proc.returncode is not None and proc.returncode < 0:
            return f"killed by {signal.Signals(-proc.returncode).name}"
        said = ""
        if proc is not None and proc.stderr is not None and proc.returncode is not None:
            said = (await proc.stderr.read()).decode(errors="replace").strip()
        if not said and self._log.exists():
            lines = self._log.read_text(errors="replace").strip().splitlines()
            said = lines[-1] if lines else ""
        if "address already in use" in said.lower():
            return f"{self.host}:{self.port} is already in use"
        return said or f"it exited with status {proc.returncode if proc else '?'}"

    async def wait_closed(self) -> str:
        assert self._proc is not None
        status = await self._proc.wait()
        return f"mosquitto stopped (status {status}): {await self._last_words()}"

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        try:
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)  # it writes its database, then exits
                try:
                    await asyncio.wait_for(proc.wait(), _STOP_TIMEOUT)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


class _Embedded(RunningBroker):
    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.kind = BrokerKind.EMBEDDED
        self.host, self.port, self.data_dir = host, port, data_dir
        self._broker: EmbeddedBroker | None = None
        self._stopped = asyncio.Event()

    @property
    def description(self) -> str:
        return f"the embedded broker (amqtt, MQTT 3.1.1), queued messages kept in {self.data_dir}"

    async def start(self) -> None:
        from mqchat.broker.embedded import EmbeddedBroker

        broker = EmbeddedBroker(self.host, self.port, self.data_dir / EMBEDDED_DATABASE)
        await broker.start()
        self._broker = broker

    async def wait_closed(self) -> str:
        await self._stopped.wait()
        return "the embedded broker stopped"

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.stop()
        self._stopped.set()


async def start_broker(
    host: str = "127.0.0.1",
    port: int = 1883,
    *,
    embedded: bool = False,
    data_dir: Path,
) -> RunningBroker:
    """Start a broker listening on ``host:port`` (port 0: any free one): mosquitto
    if it is on PATH and ``embedded`` is false, else the embedded one, in this event
    loop. ``data_dir`` holds what either keeps across restarts. Raises
    :class:`BrokerStartError` (port in use, broker failing to start)."""
    if port == 0:
        port = pick_free_port(host)
    else:
        check_port_free(host, port)
    data_dir.mkdir(parents=True, exist_ok=True)
    broker: _Mosquitto | _Embedded
    if embedded or not mosquitto_available():
        broker = _Embedded(host, port, data_dir)
    else:
        broker = _Mosquitto(host, port, data_dir)
    await broker.start()
    return broker


@contextlib.asynccontextmanager
async def running_broker(
    host: str = "127.0.0.1",
    port: int = 1883,
    *,
    embedded: bool = False,
    data_dir: Path,
) -> AsyncIterator[RunningBroker]:
    """:func:`start_broker` for ``async with``: stopped on the way out."""
    broker = await start_broker(host, port, embedded=embedded, data_dir=data_dir)
    try:
        yield broker
    finally:
        await broker.stop()
