"""The embedded broker of ``mqchat serve --embedded`` and ``mqchat demo``: amqtt, a
pure-Python MQTT 3.1.1 broker, run in the current event loop, keeping its sessions
in SQLite. Two things make the chat work on it: :class:`NamedSessions` (offline
delivery) and a front door that answers an MQTT 5 CONNECT the way the 3.1.1 spec
says (:class:`EmbeddedBroker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

from mqchat.broker.local import BrokerStartError

__all__ = ["SESSION_EXPIRY", "EmbeddedBroker", "NamedSessions", "embedded_config"]

SESSION_EXPIRY = 7 * 24 * 3600
"""How long the broker keeps the session (and queued messages) of a client that went
away; the chat asks for as much with MQTT 5 (settings.DEFAULT_SESSION_EXPIRY)."""

_LISTENER = "default"
_CONNECT = 0x10
_REFUSE_PROTOCOL = b"\x20\x02\x00\x01"  # CONNACK "unacceptable protocol version"
_PEEK_TIMEOUT = 30.0

# amqtt logs a warning for every connection it refuses: with no handler anywhere,
# Python would print them on the terminal, over the demo's TUI. Whoever wants them
# attaches a handler to "amqtt".
logging.getLogger("amqtt").addHandler(logging.NullHandler())
log = logging.getLogger("mqchat.broker.embedded")


class NamedSessions(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """Lets every client in. amqtt's own AnonymousAuthPlugin marks *every* session
    anonymous when it admits anonymous clients, and amqtt queues nothing for an
    anonymous session while it is away: no chat message would reach a friend who is
    offline. Here only a client without a user name is anonymous; the chat always
    logs in with one."""

    async def authenticate(self, *, session: Session) -> bool:
        session.is_anonymous = not session.username
        return True


def embedded_config(host: str, port: int, database: Path | None = None) -> dict[str, Any]:
    """amqtt's configuration: one listener whose connections we hand over (see
    :meth:`EmbeddedBroker._accept`), our login rule, $SYS statistics, and with a
    ``database`` the sessions, their queues and retained messages kept in SQLite
    across restarts."""
    plugins: dict[str, Any] = {
        f"{__name__}.NamedSessions": {},
        # what the inspector's broker view (b) reads
        "amqtt.plugins.sys.broker.BrokerSysPlugin": {"sys_interval": 10},
    }
    if database is not None:
        plugins["amqtt.contrib.persistence.SessionDBPlugin"] = {
            "connection": f"sqlite+aiosqlite:///{database}",
            "clear_on_shutdown": False,  # its default: forget everything on a clean stop
        }
    return {
        "listeners": {_LISTENER: {"type": "external", "bind": f"{host}:{port}"}},
        "session_expiry_interval": SESSION_EXPIRY,
        "plugins": plugins,
    }


class _Replayed(StreamReaderAdapter):  # type: ignore[misc]
    """A connection's reader that first gives back the bytes we peeked at."""

    def __init__(self, reader: asyncio.StreamReader, peeked: bytes) -> None:
        super().__init__(reader)
        self._peeked = peeked

    async def read(self, n: int = -1) -> bytes:
        if not self._peeked:
            data: bytes = await super().read(n)
            return data
        if n < 0:
            head, self._peeked = self._peeked, b""
            return head + bytes(await super().read(n))
        head, self._peeked = self._peeked[:n], self._peeked[n:]
        if len(head) < n:
            head += await super().read(n - len(head))
        return head


async def _peek_protocol_level(reader: asyncio.StreamReader) -> tuple[bytes, int | None]:
    """Read the start of a CONNECT up to its protocol level. Returns the bytes read
    and the level (4: 3.1.1, 5: MQTT 5), or ``None`` when it is no CONNECT."""
    data = await reader.readexactly(1)
    if data[0] & 0xF0 != _CONNECT:
        return data, None
    for _ in range(4):  # the remaining length: 1 to 4 bytes
        byte = await reader.readexactly(1)
        data += byte
        if not byte[0] & 0x80:
            break
    name_length = await reader.readexactly(2)
    data += name_length
    data += await reader.readexactly(int.from_bytes(name_length, "big") + 1)
    return data, data[-1]


class EmbeddedBroker:
    """amqtt behind our own listener. amqtt reads an MQTT 5 CONNECT that carries
    properties as a 3.1.1 one and waits for bytes that never come, so a client
    trying MQTT 5 first (the chat does) hangs until it gives up, and never learns
    to try 3.1.1. The listener answers such a CONNECT itself, with the CONNACK a
    3.1.1 broker owes it [MQTT-3.1.2-2], and hands every other connection over."""

    def __init__(self, host: str, port: int, database: Path | None = None) -> None:
        """``database``: the SQLite file that keeps what the broker holds across
        restarts; ``None``: in memory only."""
        self.host, self.port = host, port
        with warnings.catch_warnings():
            # "use amqtt[dollarsys]" for the $SYS plugin: pyproject.toml does
            warnings.filterwarnings("ignore", "`BrokerSysPlugin`", DeprecationWarning)
            self._broker = Broker(embedded_config(host, port, database))
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen. Raises :class:`BrokerStartError`."""
        try:
            await self._broker.start()
            self._server = await asyncio.start_server(
                self._accept, self.host, self.port, reuse_address=True
            )
        except (BrokerError, OSError) as exc:
            await self.stop()
            cause = exc.__cause__ if isinstance(exc, BrokerError) else exc
            if isinstance(cause, OSError) and cause.errno in (98, 48, 10048):
                raise BrokerStartError(f"{self.host}:{self.port} is already in use") from None
            raise BrokerStartError(f"the embedded broker did not start: {cause or exc}") from None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            try:
                async with asyncio.timeout(_PEEK_TIMEOUT):
                    peeked, level = await _peek_protocol_level(reader)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                return
            if level is not None and level > 4:
                writer.write(_REFUSE_PROTOCOL)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                writer.close()
                return
            await self._broker.external_connected(
                _Replayed(reader, peeked), StreamWriterAdapter(writer), _LISTENER
            )
        except Exception:
            # amqtt trips over sockets the client already closed (OSError on close);
            # asyncio would print each traceback on the terminal, over the demo's TUI.
            log.debug("a connection to the embedded broker failed", exc_info=True)
            writer.close()
        finally:
            self._connections.discard(task)

    async def stop(self) -> None:
        """Stop listening, end every connection, stop the broker (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with contextlib.suppress(BrokerError):
            if self._broker.transitions.state == "started":
                await self._broker.shutdown()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
