"""The connections of ``mqchat probe`` (``mqtt/probe.py``): each with a reader task
of its own, so that a connection the broker closes (for a QoS or a topic it
refuses) is noticed at once rather than after aiomqtt's timeout; opened and closed
through a gate that keeps amqtt's race away (:class:`Gate`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from mqchat.config.settings import Settings
from mqchat.mqtt.errors import MqttError
from mqchat.mqtt.protocol import Protocol
from mqchat.mqtt.qos_limit import granted_qos
from mqchat.mqtt.session import Incoming, Session, open_session

__all__ = ["CLOSE_WAIT", "Conn", "Connections", "Gate", "Lost"]

T = TypeVar("T")

CLOSE_WAIT = 1.0
"""Seconds a connection has to close cleanly before it is dropped."""


class Lost(Exception):
    """The probe's connection was closed by the broker (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Gate:
    """Keeps connections starting apart from subscriptions changing: amqtt 0.12 drops
    a connection whose start (it walks every subscription right after the CONNACK)
    overlaps anybody's subscribe or unsubscribe (docs/brokers.md#amqtt). Starts may
    overlap each other, and changes each other; a start waits for the changes under
    way, a change for the starts."""

    def __init__(self) -> None:
        self._busy = {"start": 0, "change": 0}
        self._turn = asyncio.Condition()

    @asynccontextmanager
    async def holding(self, kind: str) -> AsyncIterator[None]:
        other = "change" if kind == "start" else "start"
        async with self._turn:
            await self._turn.wait_for(lambda: self._busy[other] == 0)
            self._busy[kind] += 1
        try:
            yield
        finally:
            async with self._turn:
                self._busy[kind] -= 1
                self._turn.notify_all()

    def start(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.holding("start")

    def change(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.holding("change")


class Conn:
    """One probe connection: its session, and every message it receives, read by a
    task of its own so a closed connection is noticed at once."""

    def __init__(self, session: Session, gate: Gate) -> None:
        self.session = session
        self.gate = gate
        self.filters: list[str] = []
        """What it subscribed to, to unsubscribe before leaving."""
        self.received: list[Incoming] = []
        self.lost: str | None = None
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.session.messages():
                self.received.append(message)
                self._wake()
        except MqttError as exc:
            self.lost = str(exc) or "the broker closed the connection"
        self.lost = self.lost or "the broker closed the connection"
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def stop(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def first(self, wanted: Callable[[Incoming], bool], wait: float) -> Incoming | None:
        """The first message received that is ``wanted``, waiting up to ``wait`` s;
        ``None`` if none came. :class:`Lost` if the connection closed first."""
        deadline = time.monotonic() + wait
        while True:
            for message in self.received:
                if wanted(message):
                    return message
            if self.lost is not None:
                raise Lost(self.lost)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)

    def count(self, topic: str) -> int:
        return sum(1 for m in self.received if m.topic == topic)

    async def until(self, step: Awaitable[T]) -> T:
        """``step``'s result, or :class:`Lost` as soon as the connection closes
        (aiomqtt would wait out its whole timeout for an answer that cannot come)."""
        task = asyncio.ensure_future(step)
        while not task.done():
            if self.lost is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, MqttError):
                    await task
                raise Lost(self.lost)
            await self.changed(task)
        return task.result()

    async def changed(self, *others: asyncio.Future[Any], wait: float | None = None) -> None:
        """Until something happens on this connection (a message, its end), one of
        ``others`` is done, or ``wait`` s pass."""
        waiter = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait([waiter, *others], timeout=wait, return_when="FIRST_COMPLETED")
        finally:
            waiter.cancel()

    async def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        await self.until(self.session.publish(topic, payload, qos=qos, retain=retain, json=False))

    async def subscribe(self, *filters: tuple[str, int]) -> list[int | None]:
        """Subscribe and return the QoS granted to each filter (``None``: refused)."""
        async with self.gate.change():
            codes = await self.until(self.session.try_subscribe(list(filters)))
        self.filters += [f for f, _ in filters]
        return [granted_qos(code) for code in codes]


class Connections:
    """Opens the probe's connections to one broker, all through one :class:`Gate`."""

    def __init__(self, settings: Settings, protocol: Protocol, ping_topic: str) -> None:
        self.settings = settings
        self.protocol = protocol
        self.ping_topic = ping_topic
        """Unsubscribed from once connected: a round trip that ends when the broker
        is done with the connection's start."""
        self.gate = Gate()

    @asynccontextmanager
    async def conn(self, settings: Settings | None = None, **kwargs: Any) -> AsyncIterator[Conn]:
        """A connection of its own (``open_session``'s arguments), closed cleanly
        unless the broker closed it first (or the block raised: then dropped)."""
        opening = open_session(settings or self.settings, self.protocol, **kwargs)
        async with self.gate.start():
            session = await opening.__aenter__()
            conn = Conn(session, self.gate)
            try:
                # answered once the broker is done with our start
                await conn.until(session.unsubscribe(self.ping_topic))
            except BaseException:
                await conn.stop()
                await opening.__aexit__(*sys.exc_info())
                raise
        try:
            yield conn
        except BaseException:
            if not await self._leave(conn, opening, sys.exc_info(), unsubscribe=False):
                raise
        else:
            persistent = "session_id" in kwargs
            await self._leave(conn, opening, (None, None, None), unsubscribe=not persistent)

    async def _leave(self, conn: Conn, opening: Any, exc_info: Any, *, unsubscribe: bool) -> bool:
        """Close ``conn`` (``opening``'s exit with ``exc_info``: a DISCONNECT, or a
        drop after an error), within :data:`CLOSE_WAIT` s: a broker that does not
        answer the DISCONNECT (mosquitto's WebSockets after a message it did not
        take) gets the connection dropped instead. Returns what ``__aexit__`` did."""
        try:
            async with asyncio.timeout(CLOSE_WAIT):
                if unsubscribe and conn.lost is None and conn.filters:
                    # now, rather than as the broker handles the DISCONNECT, when
                    # the next connection may be starting (amqtt)
                    async with self.gate.change():
                        with contextlib.suppress(Lost, MqttError):
                            for topic_filter in conn.filters:
                                await conn.until(conn.session.unsubscribe(topic_filter))
                await conn.stop()
                return bool(await opening.__aexit__(*exc_info))
        except TimeoutError:
            conn.session.drop()
            await conn.stop()
            return False
