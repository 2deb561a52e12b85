"""What every broker mqchat starts locally shares (``mqchat serve``, ``mqchat demo``):
the :class:`RunningBroker` handle, its errors, and finding a port to listen on."""

from __future__ import annotations

import ctypes
import signal
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Self

__all__ = [
    "BrokerKind",
    "BrokerStartError",
    "RunningBroker",
    "broker_url",
    "check_port_free",
    "die_with_parent",
    "pick_free_port",
]


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
