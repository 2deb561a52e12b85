"""A private mosquitto with the listeners the TLS and WebSocket tests need, each on its
own free port: TLS, TLS with an expired certificate, TLS that requires a client
certificate, TLS on a second loopback address (127.0.0.2, which the server
certificate does not name), plain WebSockets and WebSockets over TLS."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.mosquitto import Mosquitto, free_port
from tests.support.tls_ca import TlsFiles, make_tls_files

__all__ = ["OTHER_LOOPBACK", "TlsBroker", "start_tls_broker"]

OTHER_LOOPBACK = "127.0.0.2"
"""Reaches this machine like 127.0.0.1 (on Linux), but is not in the certificate."""


def _can_bind(address: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


@dataclass
class TlsBroker:
    server: Mosquitto
    files: TlsFiles
    tls: int
    expired: int
    client_cert: int
    ws: int
    wss: int
    other_host: int | None
    """The TLS listener on :data:`OTHER_LOOPBACK`; ``None`` where it cannot be bound."""

    @property
    def plain(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.stop()


def _tls_listener(port: int, cert: Path, key: Path, ca: Path, host: str = "127.0.0.1") -> str:
    return f"\nlistener {port} {host}\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"


def start_tls_broker(folder: Path, users: dict[str, str] | None = None) -> TlsBroker:
    """Start it; ``users`` (name -> password) turns anonymous logins off on every
    listener (mosquitto 2.0's ``per_listener_settings`` is false by default)."""
    files = make_tls_files(folder / "tls")
    ports = {name: free_port() for name in ("tls", "expired", "client_cert", "ws", "wss")}
    other = free_port() if _can_bind(OTHER_LOOPBACK) else None
    config = (
        _tls_listener(ports["tls"], files.server_cert, files.server_key, files.ca)
        + _tls_listener(ports["expired"], files.expired_cert, files.expired_key, files.ca)
        + _tls_listener(ports["client_cert"], files.server_cert, files.server_key, files.ca)
        + "require_certificate true\n"
        + f"\nlistener {ports['ws']} 127.0.0.1\nprotocol websockets\n"
        + _tls_listener(ports["wss"], files.server_cert, files.server_key, files.ca)
        + "protocol websockets\n"
    )
    if other is not None:
        config += _tls_listener(
            other, files.server_cert, files.server_key, files.ca, host=OTHER_LOOPBACK
        )
    server = Mosquitto(folder / "mosquitto", extra_config=config, users=users).start()
    # start() waited for the first listener; mosquitto opens the others just after it
    for port in ports.values():
        _wait_listening("127.0.0.1", port)
    if other is not None:
        _wait_listening(OTHER_LOOPBACK, other)
    return TlsBroker(server=server, files=files, other_host=other, **ports)


def _wait_listening(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto does not listen on {host}:{port}") from None
            time.sleep(0.02)  # polling a port that is not open yet: nothing to await
