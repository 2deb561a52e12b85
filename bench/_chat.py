"""The chat path: two ChatService instances, alice and bob, on the same broker, with
their own databases; alice sends, bob's listener hears each message once it is stored.
Run with end-to-end encryption off (plain) and on (sealed), the same way."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import perf_counter

from bench._broker import BenchBroker
from bench._common import Arrivals, BenchError, Config, body_for
from bench._report import Latency, Throughput
from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived, ConnectionChanged, Event, MessageStateChanged
from mqchat.core.model import ConnectionState, DeliveryState

__all__ = [
    "CHAT_BURST",
    "CHAT_CALL",
    "CHAT_DELIVERED",
    "CHAT_SENT",
    "CHAT_STORED",
    "ChatResult",
    "chat_phase",
    "merged",
    "sealed_label",
]

CHAT_CALL = "chat: send_text() returned"
CHAT_SENT = "chat: send → alice sees SENT"
CHAT_STORED = "chat: send → bob received and stored"
CHAT_DELIVERED = "chat: send → alice sees DELIVERED"
CHAT_BURST = "chat: send_text() one by one → bob stored"
_MAX_MISSING = 3  # state events that never came; beyond this the run is pointless


def sealed_label(label: str) -> str:
    """The row of the sealed run that matches ``label`` of the plain one."""
    return label.replace("chat:", "sealed:", 1)


@dataclass
class ChatResult:
    samples: dict[str, list[float]] = field(default_factory=dict)
    """Per row, the measured durations (seconds), for merging rounds."""
    latency: list[Latency] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    """Per row, how many measured messages never produced its event."""
    bursts: list[Throughput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Watcher:
    """A ChatService listener that notes when each event of interest happened."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.stored = Arrivals()  # ChatReceived: the service emits it after the commit
        self.sealed = 0  # of those, how many came sealed
        self.sent = Arrivals()
        self.delivered = Arrivals()
        self.state = ConnectionState.IDLE
        self.detail = ""
        self.connects = 0
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        if isinstance(event, ChatReceived):
            self.stored.record(event.message.id)
            self.sealed += event.message.sealed
        elif isinstance(event, MessageStateChanged):
            # A receipt that overtakes the PUBACK moves a message from pending straight
            # to delivered (states only go forward): it was sent then at the latest.
            if event.state in (DeliveryState.SENT, DeliveryState.DELIVERED):
                self.sent.record(event.message_id)
            if event.state is DeliveryState.DELIVERED:
                self.delivered.record(event.message_id)
        elif isinstance(event, ConnectionChanged):
            self.state, self.detail = event.state, event.detail
            self.connects += event.state is ConnectionState.CONNECTED
            self._changed.set()

    async def until_connected(self, timeout: float) -> None:
        async def connected() -> None:
            while self.state is not ConnectionState.CONNECTED:
                if self.state in (ConnectionState.FAILED, ConnectionState.CLOSED):
                    raise BenchError(f"{self.user} could not connect: {self.detail}")
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(connected(), timeout)
        except TimeoutError:
            raise BenchError(
                f"{self.user} not connected within {timeout}s ({self.state}: {self.detail})"
            ) from None


def _settings(broker: BenchBroker, user: str, ns: str, data_dir: Path, sealed: bool) -> Settings:
    return Settings(
        broker=parse_broker_url(f"mqtt://{broker.host}:{broker.port}"),
        user=user,
        data_dir=data_dir,
        namespace=ns,
        encryption=sealed,
    )


async def _one_at_a_time(
    alice: ChatService, a: Watcher, b: Watcher, cfg: Config, result: ChatResult
) -> None:
    print(f"chat: {cfg.warmup + cfg.messages} messages, one at a time", file=sys.stderr)
    samples: dict[str, list[float]] = {
        label: [] for label in (CHAT_CALL, CHAT_SENT, CHAT_STORED, CHAT_DELIVERED)
    }
    missing = dict.fromkeys(samples, 0)
    strikes = 0
    for i in range(cfg.warmup + cfg.messages):
        if cfg.gap:
            await asyncio.sleep(cfg.gap)
        t0 = perf_counter()
        # Whether this returns before or after the PUBACK, the clock keeps running
        # until bob's listener hears of the message.
        msg = await alice.send_text("bob", body_for(i))
        t_call = perf_counter()
        t_stored = await b.stored.wait(msg.id, cfg.timeout)
        if t_stored is None:
            raise BenchError(f"chat message {i} not stored by bob within {cfg.timeout}s")
        # The next message waits for this one's receipt, so no sample overlaps the tail
        # of the one before (bob's receipt, alice's state updates).
        t_delivered = await a.delivered.wait(msg.id, cfg.timeout)
        t_sent = await a.sent.wait(msg.id, cfg.timeout)
        strikes += (t_delivered is None) + (t_sent is None)
        if strikes > _MAX_MISSING:
            raise BenchError(
                f"alice's state events stopped coming: {strikes} SENT/DELIVERED never came"
            )
        if i < cfg.warmup:
            continue
        for label, t in [
            (CHAT_CALL, t_call),
            (CHAT_SENT, t_sent),
            (CHAT_STORED, t_stored),
            (CHAT_DELIVERED, t_delivered),
        ]:
            if t is None:
                missing[label] += 1
            else:
                samples[label].append(t - t0)
    result.samples = samples
    result.latency = [Latency.of(label, s) for label, s in samples.items() if s]
    result.missing = missing


async def _burst(
    alice: ChatService, a: Watcher, b: Watcher, cfg: Config, result: ChatResult
) -> None:
    print(f"chat: a burst of {cfg.messages}", file=sys.stderr)
    n = cfg.messages
    first = cfg.warmup + cfg.messages  # bodies stay unique across the run
    ids: list[str] = []
    t0 = perf_counter()
    for i in range(n):
        ids.append((await alice.send_text("bob", body_for(first + i))).id)
    t_sent = perf_counter()
    t_stored = await b.stored.wait_all(ids, cfg.burst_timeout, "burst messages stored by bob")
    t_back = await a.delivered.wait_all(ids, cfg.burst_timeout, "DELIVERED receipts at alice")
    result.bursts = [
        Throughput(CHAT_BURST, n, t_sent - t0, t_stored - t0),
        Throughput("chat: the same burst → DELIVERED at alice", n, t_sent - t0, t_back - t0),
    ]


async def chat_phase(
    broker: BenchBroker, ns: str, data_dir: Path, cfg: Config, *, sealed: bool = False
) -> ChatResult:
    """Latency one message at a time, then a burst, alice to bob; ``sealed``: with
    end-to-end encryption (the rows' labels say ``sealed:``, not ``chat:``)."""
    alice = ChatService(_settings(broker, "alice", ns, data_dir, sealed))
    bob = ChatService(_settings(broker, "bob", ns, data_dir, sealed))
    a, b = Watcher("alice"), Watcher("bob")
    alice.set_listener(a)
    bob.set_listener(b)
    runs = [asyncio.create_task(alice.run()), asyncio.create_task(bob.run())]
    result = ChatResult()
    try:
        await asyncio.gather(a.until_connected(cfg.timeout), b.until_connected(cfg.timeout))
        await alice.add_contact("bob")
        await bob.add_contact("alice")
        await _one_at_a_time(alice, a, b, cfg, result)
        await _burst(alice, a, b, cfg, result)
        expected = cfg.warmup + 2 * cfg.messages if sealed else 0
        if b.sealed != expected:
            raise BenchError(f"{b.sealed} of bob's messages came sealed, not {expected}")
        if sealed:
            result.samples = {sealed_label(k): v for k, v in result.samples.items()}
            result.latency = [replace(r, label=sealed_label(r.label)) for r in result.latency]
            result.bursts = [replace(r, label=sealed_label(r.label)) for r in result.bursts]
            result.missing = {sealed_label(k): v for k, v in result.missing.items()}
        result.notes += [
            f"{w.user} connected {w.connects} times during the run"
            for w in (a, b)
            if w.connects != 1
        ]
    finally:
        for service in (alice, bob):
            with contextlib.suppress(Exception):
                await service.stop()
        for run in runs:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(run, 10)
    return result


def merged(rounds: list[ChatResult]) -> ChatResult:
    """Several rounds of one path as one: every latency sample together, and each
    burst row as all its messages over all its time."""
    result = ChatResult()
    for one in rounds:
        for label, seconds in one.samples.items():
            result.samples.setdefault(label, []).extend(seconds)
        for label, count in one.missing.items():
            result.missing[label] = result.missing.get(label, 0) + count
        result.notes += one.notes
    result.latency = [Latency.of(label, s) for label, s in result.samples.items() if s]
    bursts: dict[str, list[Throughput]] = {}
    for one in rounds:
        for row in one.bursts:
            bursts.setdefault(row.label, []).append(row)
    result.bursts = [
        Throughput(
            label,
            sum(r.n for r in rows),
            sum(r.sent for r in rows),
            sum(r.received for r in rows),
        )
        for label, rows in bursts.items()
    ]
    return result
