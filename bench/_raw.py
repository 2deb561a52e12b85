"""The baseline: aiomqtt alone, client A publishing QoS 1 to client B through the
same broker, with payloads of the chat envelope's size and content type."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from time import perf_counter

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench._broker import BenchBroker
from bench._common import Arrivals, BenchError, Config
from bench._report import Latency, Throughput

__all__ = ["RAW", "RAW_PUBACK", "RawResult", "raw_phase"]

RAW = "raw aiomqtt: publish → B received"
RAW_PUBACK = "raw aiomqtt: publish() returned (PUBACK)"

# aiomqtt warns about every publish beyond ten in flight, which the pipelined burst is
_QUIET = logging.getLogger("bench.raw")
_QUIET.setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class RawResult:
    latency: list[Latency]
    bursts: list[Throughput]


def _content_type() -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = "application/json"
    return props


class _Publisher:
    def __init__(self, client: aiomqtt.Client, topic: str, size: int) -> None:
        self._client = client
        self._topic = topic
        self._size = size
        self._props = _content_type()

    async def publish(self, key: str) -> None:
        """One QoS 1 message that B files under ``key``; returns on its PUBACK."""
        payload = f"{key}|".encode().ljust(self._size, b"x")
        await self._client.publish(self._topic, payload, qos=1, properties=self._props)


async def _note_arrivals(client: aiomqtt.Client, arrivals: Arrivals) -> None:
    async for message in client.messages:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        arrivals.record(payload.split(b"|", 1)[0].decode())


async def _one_at_a_time(a: _Publisher, arrivals: Arrivals, cfg: Config) -> list[Latency]:
    print(f"raw aiomqtt: {cfg.warmup + cfg.messages} messages, one at a time", file=sys.stderr)
    one_way: list[float] = []
    puback: list[float] = []
    for i in range(cfg.warmup + cfg.messages):
        key = f"lat-{i}"
        if cfg.gap:
            await asyncio.sleep(cfg.gap)
        t0 = perf_counter()
        await a.publish(key)
        t_ack = perf_counter()
        t_recv = await arrivals.wait(key, cfg.timeout)
        if t_recv is None:
            raise BenchError(f"raw message {i} did not arrive within {cfg.timeout}s")
        if i >= cfg.warmup:
            one_way.append(t_recv - t0)
            puback.append(t_ack - t0)
    return [Latency.of(RAW, one_way), Latency.of(RAW_PUBACK, puback)]


async def _bursts(a: _Publisher, arrivals: Arrivals, cfg: Config) -> list[Throughput]:
    print(f"raw aiomqtt: bursts of {cfg.messages}", file=sys.stderr)
    n = cfg.messages
    what = "raw burst messages arrived"

    t0 = perf_counter()
    for i in range(n):
        await a.publish(f"seq-{i}")
    t_sent = perf_counter()
    t_all = await arrivals.wait_all((f"seq-{i}" for i in range(n)), cfg.burst_timeout, what)
    awaited = Throughput("raw aiomqtt: publish() awaited one by one", n, t_sent - t0, t_all - t0)

    t0 = perf_counter()
    await asyncio.gather(*(a.publish(f"pipe-{i}") for i in range(n)))
    t_sent = perf_counter()
    t_all = await arrivals.wait_all((f"pipe-{i}" for i in range(n)), cfg.burst_timeout, what)
    pipelined = Throughput(
        "raw aiomqtt: all publishes in flight at once", n, t_sent - t0, t_all - t0
    )
    return [awaited, pipelined]


async def raw_phase(broker: BenchBroker, ns: str, size: int, cfg: Config) -> RawResult:
    """Latency one message at a time, then two bursts, over one pair of connections."""
    topic = f"{ns}/raw"
    v5 = aiomqtt.ProtocolVersion.V5
    arrivals = Arrivals()
    async with (
        aiomqtt.Client(broker.host, broker.port, identifier=f"{ns}-b", protocol=v5) as b,
        aiomqtt.Client(
            broker.host, broker.port, identifier=f"{ns}-a", protocol=v5, logger=_QUIET
        ) as a,
    ):
        await b.subscribe(f"{topic}/#", qos=1)
        reader = asyncio.create_task(_note_arrivals(b, arrivals))
        publisher = _Publisher(a, f"{topic}/m", size)
        try:
            latency = await _one_at_a_time(publisher, arrivals, cfg)
            bursts = await _bursts(publisher, arrivals, cfg)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await reader
    return RawResult(latency, bursts)
