"""``mqchat sub``: subscribe and print every message as it comes, like mosquitto_sub.
The hot path is one paho callback that appends a line to a buffer; the buffer is
written out whenever the socket runs dry or holds 64 KiB, so a lone message shows at
once and a flood costs one write() per 64 KiB."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import BinaryIO

from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.message import Message
from mqchat.core.topic_filter import TopicMatcher, compile_filter
from mqchat.mqtt.errors import LinkError, Reason
from mqchat.mqtt.link import Link, MessageHandler, open_link
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.qos_limit import downgrade_notice, granted_qos
from mqchat.tools.rules import OutputFormat, RetainedFilter, json_line, line_renderer

__all__ = [
    "OutputBuffer",
    "SubscribeEnd",
    "SubscribeRequest",
    "SubscribeResult",
    "reconnect",
    "subscribe",
]

_FLUSH_AT = 64 * 1024


class OutputBuffer:
    """Our own buffer in front of a binary stream. ``sys.stdout.buffer`` is not always
    buffered: with ``PYTHONUNBUFFERED`` it is the raw file, one write() per call."""

    def __init__(self, stream: BinaryIO, limit: int = _FLUSH_AT) -> None:
        self._stream = stream
        self._limit = limit
        self._buf = bytearray()

    def write(self, data: bytes | bytearray) -> None:
        buf = self._buf
        buf += data
        if len(buf) >= self._limit:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered. The bytes leave the buffer before they are written:
        a signal handler that raises right after a write (SIGTERM unwinds ``mqchat
        sub``, whose last flush follows) must not have them written twice."""
        while self._buf:
            pending, self._buf = self._buf, bytearray()
            written = self._stream.write(pending)
            # A raw file may write less than asked; a buffered one writes all.
            if written is not None and written < len(pending):
                self._buf[:0] = memoryview(pending)[written:]
        self._stream.flush()


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    filters: tuple[str, ...]
    """Topic filters, already checked (:func:`~mqchat.tools.rules.check_filter`)."""
    qos: int = 0
    """Maximum QoS of the subscription."""
    count: int | None = None
    """Stop after this many handled messages (``-C``)."""
    timeout: float | None = None
    """Stop this many seconds after connecting (``-W``)."""
    output: OutputFormat = OutputFormat.PAYLOAD
    retained: RetainedFilter = RetainedFilter.ALL
    safe: bool = False
    """Escape what could drive a terminal (stdout is a TTY)."""
    decode: Callable[[bytes], str] | None = None
    """``--format``: a payload to the one line printed in its place
    (:func:`~mqchat.tools.formats.line_decoder`); ``None``: the payload as it came."""


class SubscribeEnd(StrEnum):
    """Why :func:`subscribe` returned."""

    COUNT = "count"
    """``count`` messages were handled."""
    TIMEOUT = "timeout"
    """``timeout`` seconds passed first."""
    LIVE = "live"
    """With :attr:`RetainedFilter.ONLY`: the first live message came."""


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    end: SubscribeEnd
    messages: int
    """Messages handled (printed)."""


def _renderer(request: SubscribeRequest) -> Callable[[Message], bytes | bytearray]:
    if request.output is OutputFormat.JSON:
        safe = request.safe

        def as_json(msg: Message) -> bytes:
            return json_line(
                msg.topic,
                msg.payload,
                qos=msg.qos,
                retain=bool(msg.retain),
                ts=datetime.now(UTC),
                properties=msg.properties or {},
                safe=safe,
            )

        return as_json
    render = line_renderer(request.output, safe=request.safe)
    decode = request.decode
    if decode is not None:  # --format: the decoded line is terminal-safe already
        if request.output is OutputFormat.VERBOSE:
            return lambda msg: render(msg.topic, decode(msg.payload).encode("utf-8"))
        return lambda msg: decode(msg.payload).encode("utf-8") + b"\n"
    if request.output is OutputFormat.PAYLOAD and not request.safe:
        return lambda msg: msg.payload + b"\n"  # the flood path: no topic decoding
    return lambda msg: render(msg.topic, msg.payload)


class _Run:
    """What one ``mqchat sub`` has done so far, across reconnections."""

    def __init__(self, request: SubscribeRequest, out: OutputBuffer) -> None:
        self.request = request
        self.out = out
        self.messages = 0
        self.end = SubscribeEnd.TIMEOUT
        self._render = _renderer(request)

    def handler(self, link: Link) -> MessageHandler:
        write, render = self.out.write, self._render
        limit = self.request.count or 0
        skip = self.request.retained is RetainedFilter.SKIP
        only = self.request.retained is RetainedFilter.ONLY

        asked = [compile_filter(f) for f in self.request.filters]

        def on_message(msg: Message) -> None:
            if link.halted:
                return  # paho may hand over one more from the packet being read
            if msg.retain:
                if skip or not _asked_for(asked, msg.topic):
                    return
            elif only:
                self.end = SubscribeEnd.LIVE
                link.halt()
                return
            write(render(msg))
            self.messages += 1
            if self.messages == limit:
                self.end = SubscribeEnd.COUNT
                link.halt()

        return on_message


def _asked_for(matchers: list[TopicMatcher], topic: str) -> bool:
    """``topic`` matches one of our filters. amqtt hands every new connection the
    retained messages of *anybody's* subscriptions, before it has subscribed to
    anything; those strays are retained, so only retained messages are checked and
    the live flood pays nothing."""
    return any(match(topic) for match in matchers)


def subscribe(
    settings: Settings,
    request: SubscribeRequest,
    out: BinaryIO,
    *,
    protocol: Protocol | None = None,
    notice: Callable[[str], None] = lambda _line: None,
) -> SubscribeResult:
    """Print messages of ``request.filters`` to ``out`` until the count, the timeout,
    or (retained only) the first live message. A lost connection is made again, with
    backoff, as mosquitto_sub does (``notice`` says so); what was published meanwhile
    is missed. Raises :class:`LinkError` when the first connection or a subscription
    fails, or a reconnection is refused for good."""
    buffer = OutputBuffer(out)
    run = _Run(request, buffer)
    choice = ProtocolChoice.of(settings, protocol)
    link = open_link(settings, choice, role="sub")
    deadline = None if request.timeout is None else time.monotonic() + request.timeout
    backoff = Backoff(initial=0.25, cap=5.0)
    warned = False
    try:
        while True:
            try:
                link.on_message(run.handler(link))
                codes = link.subscribe(request.filters, request.qos)
                if not warned:
                    warned = _say_if_downgraded(settings, request, codes, notice)
                backoff.reset()
                while not link.halted:
                    wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                    if wait <= 0:
                        return SubscribeResult(SubscribeEnd.TIMEOUT, run.messages)
                    link.step(wait, on_idle=buffer.flush)
                return SubscribeResult(run.end, run.messages)
            except LinkError as exc:
                if exc.fatal:
                    raise
                buffer.flush()
                notice(f"{exc.reason}; reconnecting")
                again = reconnect(settings, choice, deadline, backoff)
                if again is None:
                    return SubscribeResult(SubscribeEnd.TIMEOUT, run.messages)
                link = again
                notice(f"connected again to {settings.broker.label}")
    finally:
        try:
            buffer.flush()
        finally:
            link.close()


def _say_if_downgraded(
    settings: Settings,
    request: SubscribeRequest,
    codes: list[Reason],
    notice: Callable[[str], None],
) -> bool:
    """Tell, once, that the broker granted less than the QoS asked for (NATS grants
    QoS 1 to a QoS 2 subscription). Returns whether it told."""
    granted = [g for g in map(granted_qos, codes) if g is not None]
    lowest = min(granted, default=request.qos)
    if lowest >= request.qos:
        return False
    what = "messages arrive"
    notice(downgrade_notice(settings.broker.label, request.qos, lowest, what=what))
    return True


def reconnect(
    settings: Settings,
    choice: ProtocolChoice,
    deadline: float | None,
    backoff: Backoff,
    role: str = "sub",
) -> Link | None:
    """A new connection (``role`` names it to the broker), or ``None`` if the
    deadline passed first."""
    while True:
        delay = backoff.next_delay()
        if deadline is not None:
            delay = min(delay, deadline - time.monotonic())
            if delay <= 0:
                return None
        time.sleep(delay)  # nothing to read while disconnected: a plain wait
        try:
            return open_link(settings, choice, role=role)
        except LinkError as exc:
            if exc.fatal:
                raise
