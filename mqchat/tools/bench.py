"""``mqchat bench pub|sub``: drive the load and the receiving side of a bench run
over the fast link (:mod:`mqchat.mqtt.link`), all in this thread. What is counted,
and over which window, is :mod:`mqchat.core.bench`'s; this module only keeps the
clock, paces the publishers and reads the subscribers.

One thread serves every connection with one ``select()``: the subscribers are read
as often as the publishers write, so a subscriber that falls behind is the broker's
doing (or the machine's), not a reader starved by its own publishers. The slow
subscriber (``--slow-subscriber RATE``) is read at most RATE messages a second; the
broker has to hold the rest for it, which is what a queue limit is about."""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mqchat.config.settings import Settings
from mqchat.core.bench import MAX_SEQ, Stamp, Tally, encode_stamp, new_run_id
from mqchat.core.message import Message
from mqchat.mqtt.errors import LinkError, Reason
from mqchat.mqtt.link import Link, open_link
from mqchat.mqtt.protocol import Protocol, ProtocolChoice

__all__ = ["BenchPlan", "BenchRun", "SubPlan", "SubRun", "run_bench", "run_sub"]

_OUTSTANDING = 1000  # per publisher: published, not yet complete; it waits beyond
_BURST = 256  # publishes in a row before the subscribers are read again
_IDLE = 0.05  # longest wait in select() when nothing is due


@dataclass(frozen=True, slots=True)
class BenchPlan:
    count: int | None = 1000
    """Messages in all; ``None``: for ``duration`` seconds."""
    duration: float | None = None
    rate: float | None = None
    """Offered messages per second, all publishers together; ``None``: as fast as
    the connections take them (at most :data:`_OUTSTANDING` waiting each)."""
    clients: int = 1
    qos: int = 0
    size: int = 64
    prefix: str = "mqchat-bench"
    drain: float = 2.0
    """The drain ends when every subscriber has everything, or nothing came for
    this long."""
    subscribe: bool = True
    slow_rate: float | None = None
    """Messages per second the slow subscriber reads, if there is one."""


@dataclass(slots=True)
class _Receiver:
    name: str
    link: Link
    tally: Tally = field(default_factory=Tally)
    rate: float | None = None
    due: float = 0.0
    got: bool = False


@dataclass(slots=True)
class BenchRun:
    """A run's figures as they stand (partial after Ctrl+C or a lost connection)."""

    plan: BenchPlan
    run: str
    topic: str
    qos: int
    attempted: list[int]
    complete: list[int]
    refused: list[int]
    first_ns: int | None = None
    last_complete_ns: int | None = None
    last_attempt_ns: int | None = None
    receivers: list[tuple[str, Tally]] = field(default_factory=list)
    interrupted: bool = False
    lost_connection: str | None = None


def _clock() -> float:
    """Receive times for :class:`Message` (its ``ts``): this process's monotonic clock
    in nanoseconds, the clock of the send times in the payloads."""
    return float(time.monotonic_ns())


def run_bench(
    settings: Settings,
    plan: BenchPlan,
    *,
    protocol: Protocol | None = None,
    notice: Callable[[str], None] = lambda _line: None,
) -> BenchRun:
    """Connect, publish as ``plan`` says, drain, and return the figures. Raises
    :class:`LinkError` if a connection cannot be made; a Ctrl+C or a connection lost
    during the run ends it early with what was counted so far."""
    choice = ProtocolChoice.of(settings, protocol)
    run_id = new_run_id()
    topic = f"{plan.prefix}/{run_id}"
    links: list[Link] = []
    try:
        receivers: list[_Receiver] = []
        if plan.subscribe:
            receivers.append(_Receiver("subscriber", _open(settings, choice, "bench-sub", links)))
        if plan.slow_rate is not None:
            slow = _Receiver("slow subscriber", _open(settings, choice, "bench-slow", links))
            slow.rate = plan.slow_rate
            receivers.append(slow)
        pubs = [_open(settings, choice, "bench-pub", links) for _ in range(plan.clients)]
        qos = plan.qos
        if qos == 2 and pubs[0].allowed_qos(f"{topic}/0") < 2:
            qos = pubs[0].allowed_qos(f"{topic}/0")  # known now: no second round trip
            notice(f"{settings.broker.label} takes QoS {qos} at most: publishing at QoS {qos}")
        for receiver in receivers:
            _listen(receiver)
            receiver.link.subscribe([f"{topic}/#"], qos)
        n = plan.clients
        result = BenchRun(plan, run_id, topic, qos, [0] * n, [0] * n, [0] * n)
        result.receivers = [(r.name, r.tally) for r in receivers]
        _Bench(result, pubs, receivers).go()
        return result
    finally:
        for link in links:
            link.close()


def _open(settings: Settings, choice: ProtocolChoice, role: str, links: list[Link]) -> Link:
    link = open_link(settings, choice, role=role, clock=_clock)
    links.append(link)
    return link


def _listen(receiver: _Receiver) -> None:
    tally, link = receiver.tally, receiver.link

    def handle(message: Message) -> None:
        tally.add(message.payload, int(message.ts), same_clock=True)
        receiver.got = True
        if receiver.rate is not None:
            link.halt()  # one message, then wait for its turn again

    link.on_message(handle)


class _Bench:
    def __init__(self, result: BenchRun, pubs: list[Link], receivers: list[_Receiver]) -> None:
        self.r = result
        self.pubs = pubs
        self.receivers = receivers
        for i, link in enumerate(pubs):
            link.on_published(self._completion(i))

    def _completion(self, i: int) -> Callable[[int, Reason], None]:
        r = self.r

        def done(_mid: int, code: Reason) -> None:
            if code.is_failure:
                r.refused[i] += 1
            else:
                r.complete[i] += 1
            r.last_complete_ns = time.monotonic_ns()

        return done

    def go(self) -> None:
        r = self.r
        try:
            self._publish()
            self._settle()
            self._drain()
        except KeyboardInterrupt:
            r.interrupted = True
        except LinkError as exc:
            r.lost_connection = exc.reason

    # --- phases --------------------------------------------------------------------

    def _publish(self) -> None:
        r, plan = self.r, self.r.plan
        start = time.monotonic_ns()
        r.first_ns = start
        end = None if plan.duration is None else start + int(plan.duration * 1e9)
        interval = None if plan.rate is None else 1e9 / plan.rate
        # a duration run stops at the stamps' bound too (MAX_SEQ per client)
        total = plan.count if plan.count is not None else MAX_SEQ * len(self.pubs)
        sent = 0
        while sent < total:
            now = time.monotonic_ns()
            if end is not None and now >= end:
                break
            burst = 0
            while burst < _BURST and sent < total:
                if interval is not None and start + sent * interval > now:
                    break
                i = sent % len(self.pubs)
                if r.attempted[i] - r.complete[i] - r.refused[i] >= _OUTSTANDING:
                    break
                self._send(i, time.monotonic_ns())
                sent += 1
                burst += 1
            if burst:
                wait = 0.0
            elif interval is not None:
                wait = min(_IDLE, max(0.0, (start + sent * interval - now) / 1e9))
            else:
                wait = _IDLE  # waiting for completions: the socket wakes us
            self._step(wait)

    def _send(self, i: int, now: int) -> None:
        r = self.r
        seq = r.attempted[i]
        payload = encode_stamp(Stamp(r.run, i, seq, now), r.plan.size)
        r.attempted[i] += 1  # first: at QoS 0 paho reports it complete inside publish()
        r.last_attempt_ns = now
        self.pubs[i].publish(f"{r.topic}/{i}", payload, r.qos, False)

    def _settle(self) -> None:
        """Until every publish is complete (or twice the connect timeout)."""
        r = self.r
        deadline = time.monotonic() + self.pubs[0].settings.connect_timeout * 2
        while any(a > c + f for a, c, f in zip(r.attempted, r.complete, r.refused, strict=True)):
            if time.monotonic() > deadline:
                return
            self._step(_IDLE)

    def _drain(self) -> None:
        """Until every subscriber has every completed message, or none of them got
        anything for ``plan.drain`` seconds."""
        r = self.r
        quiet_since = time.monotonic()
        while True:
            if all(self._has_all(rc.tally) for rc in self.receivers):
                return
            got = self._step(_IDLE)
            now = time.monotonic()
            if got:
                quiet_since = now
            elif now - quiet_since >= r.plan.drain:
                return

    def _has_all(self, tally: Tally) -> bool:
        r = self.r
        return tally.integrity(r.run, r.complete)["lost"] == 0

    # --- the loop ------------------------------------------------------------------

    def _step(self, wait: float) -> bool:
        """One turn: wait up to ``wait`` s for any socket, then move every
        connection on; the slow subscriber only when its turn has come. True when a
        subscriber received something."""
        now = time.monotonic()
        links: list[Link] = list(self.pubs)
        for receiver in self.receivers:
            if receiver.rate is None or receiver.due <= now:
                links.append(receiver.link)
            else:
                wait = min(wait, receiver.due - now)
        if wait > 0 and not any(link.client.has_read_ahead for link in links):
            reads: list[Any] = []
            writes: list[Any] = []
            for link in links:
                sock = link.client.socket()
                if sock is not None:
                    reads.append(sock)
                    if link.client.want_write():
                        writes.append(sock)
            select.select(reads, writes, [], wait)
        got = False
        for link in self.pubs:
            link.step(0)
        for receiver in self.receivers:
            if receiver.rate is None:
                receiver.got = False
                receiver.link.step(0)
                got = got or receiver.got
            else:
                got = self._read_slowly(receiver) or got
        return got

    @staticmethod
    def _read_slowly(receiver: _Receiver) -> bool:
        """Read the slow subscriber one message at a time, as many as its rate has
        allowed since it was last read (it may be behind a busy loop), and no more:
        never a second message before its time."""
        assert receiver.rate is not None
        gap = 1.0 / receiver.rate
        got = False
        for _ in range(_BURST):
            now = time.monotonic()
            if receiver.due > now:
                break
            receiver.link.client.halted = False
            receiver.got = False
            receiver.link.step(0)
            if not receiver.got:
                break
            got = True
            # behind by more than a message's time: catch up only what a reader at
            # the rate would have read since, not a backlog from an idle spell
            receiver.due = max(receiver.due, now - gap) + gap
        return got


@dataclass(frozen=True, slots=True)
class SubPlan:
    filters: tuple[str, ...]
    qos: int = 0
    count: int | None = None
    timeout: float | None = None


@dataclass(slots=True)
class SubRun:
    plan: SubPlan
    tally: Tally
    started_ns: int
    ended_ns: int
    interrupted: bool = False
    lost_connection: str | None = None


def run_sub(
    settings: Settings,
    plan: SubPlan,
    *,
    protocol: Protocol | None = None,
    notice: Callable[[str], None] = lambda _line: None,
) -> SubRun:
    """Receive until ``count`` messages, ``timeout`` seconds or Ctrl+C, counting
    what bench payloads say; ``notice`` hears once the subscription is up (so the
    load may start) (``same_clock`` is false: the sender's monotonic clock
    is not ours, so no latency)."""
    link = open_link(
        settings, ProtocolChoice.of(settings, protocol), role="bench-sub", clock=_clock
    )
    tally = Tally()
    run = SubRun(plan, tally, time.monotonic_ns(), 0)
    try:

        def handle(message: Message) -> None:
            tally.add(message.payload, int(message.ts), same_clock=False)
            if plan.count is not None and tally.received >= plan.count:
                link.halt()

        link.on_message(handle)
        link.subscribe(plan.filters, plan.qos)
        notice(f"measuring {' '.join(plan.filters)}; Ctrl+C ends it with the report")
        run.started_ns = time.monotonic_ns()
        end = None if plan.timeout is None else time.monotonic() + plan.timeout
        while not link.halted:
            left = 1.0 if end is None else end - time.monotonic()
            if left <= 0:
                break
            link.step(min(left, 1.0))
    except KeyboardInterrupt:
        run.interrupted = True
    except LinkError as exc:
        run.lost_connection = exc.reason
    finally:
        run.ended_ns = time.monotonic_ns()
        link.close()
    return run
