"""A local MQTT broker to try mqchat on (``mqchat serve``, ``mqchat demo``): mosquitto
with a generated config when it is installed, otherwise the embedded pure-Python
broker (amqtt, :mod:`mqchat.broker.embedded`, imported only when it starts). One API
for both: :func:`start_broker` returns a :class:`RunningBroker` with the URL to give
the clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from mqchat.broker.local import (
    BrokerKind,
    BrokerStartError,
    RunningBroker,
    broker_url,
    check_port_free,
    pick_free_port,
)
from mqchat.broker.mosquitto import (
    SERVE_MAX_QUEUED,
    MosquittoBroker,
    mosquitto_available,
    render_serve_config,
)
from mqchat.config.private_files import private_dir, private_file

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
    "render_serve_config",
    "running_broker",
    "start_broker",
]

EMBEDDED_DATABASE = "embedded-broker.sqlite3"
"""Where, in the data folder, the embedded broker keeps sessions and retained messages."""


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

        database = private_file(self.data_dir / EMBEDDED_DATABASE)  # SQLite's files follow
        broker = EmbeddedBroker(self.host, self.port, database)
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
    private_dir(data_dir)  # queued and retained messages: the owner's only
    broker: MosquittoBroker | _Embedded
    if embedded or not mosquitto_available():
        broker = _Embedded(host, port, data_dir)
    else:
        broker = MosquittoBroker(host, port, data_dir)
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
