"""``mqchat record``: subscribe like ``mqchat sub`` and write every message to a
recording (:mod:`mqchat.inspector.recording`) instead of printing it, payloads byte
for byte. The hot path appends the message to a list; a frame is written per
1,000 messages and whenever the socket runs dry, and the file is flushed then, so
a crash loses at most what arrived since the socket was last idle."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.message import Message
from mqchat.core.topic_filter import compile_filter
from mqchat.inspector.recording import RecordingWriter, create_file
from mqchat.mqtt.errors import LinkError
from mqchat.mqtt.link import Link, MessageHandler, open_link
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.tools.sub import SubscribeEnd, reconnect

__all__ = ["RecordRequest", "RecordResult", "record"]

_FRAME_MESSAGES = 1000
_FLUSH_EVERY = 1.0  # seconds: a steady flood that never lets the socket run dry


@dataclass(frozen=True, slots=True)
class RecordRequest:
    filters: tuple[str, ...]
    out: Path
    qos: int = 0
    count: int | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class RecordResult:
    end: SubscribeEnd
    messages: int
    bytes: int


class _Run:
    def __init__(self, request: RecordRequest, writer: RecordingWriter) -> None:
        self.request = request
        self.writer = writer
        self.pending: list[Message] = []
        self.messages = 0
        self.end = SubscribeEnd.TIMEOUT
        self._flushed = time.monotonic()

    def handler(self, link: Link) -> MessageHandler:
        limit = self.request.count or 0
        asked = [compile_filter(f) for f in self.request.filters]
        pending = self.pending
        append = pending.append

        def on_message(msg: Message) -> None:
            if link.halted:
                return
            if msg.retain and not any(match(msg.topic) for match in asked):
                return  # amqtt's strays: another client's retained messages
            append(msg)
            self.messages += 1
            if len(pending) >= _FRAME_MESSAGES:
                self.write_pending()
            if self.messages == limit:
                self.end = SubscribeEnd.COUNT
                link.halt()

        return on_message

    def write(self) -> None:
        """Write the pending frame; flush once a second even when never idle."""
        self.write_pending()
        if time.monotonic() - self._flushed >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self.write_pending()
        self.writer.flush()
        self._flushed = time.monotonic()

    def write_pending(self) -> None:
        if self.pending:
            self.writer.write(self.pending)
            self.pending.clear()


def record(
    settings: Settings,
    request: RecordRequest,
    *,
    notice: Callable[[str], None] = lambda _line: None,
) -> RecordResult:
    """Record the messages of ``request.filters`` to ``request.out`` (a new file)
    until the count or the timeout. A lost connection is made again with backoff
    (``notice`` says so). Raises :class:`LinkError` when the first connection or a
    subscription fails, ``OSError`` when the file cannot be made (``FileExistsError``
    when it exists)."""
    choice = ProtocolChoice.of(settings)
    link = open_link(settings, choice, role="record")
    try:
        stream = create_file(request.out)
    except BaseException:
        link.close()
        raise
    header = {
        "source": "mqchat record",
        "broker": settings.broker.label,
        "filters": list(request.filters),
        "protocol": link.protocol.value,
    }
    writer = RecordingWriter(stream, header)
    run = _Run(request, writer)
    deadline = None if request.timeout is None else time.monotonic() + request.timeout
    backoff = Backoff(initial=0.25, cap=5.0)
    try:
        while True:
            try:
                link.on_message(run.handler(link))
                link.subscribe(request.filters, request.qos, rap=True)
                backoff.reset()
                while not link.halted:
                    wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                    if wait <= 0:
                        return RecordResult(SubscribeEnd.TIMEOUT, run.messages, writer.bytes)
                    link.step(wait, on_idle=run.flush)
                    run.write()
                return RecordResult(run.end, run.messages, writer.bytes)
            except LinkError as exc:
                if exc.fatal:
                    raise
                run.flush()
                notice(f"{exc.reason}; reconnecting")
                again = reconnect(settings, choice, deadline, backoff, role="record")
                if again is None:
                    return RecordResult(SubscribeEnd.TIMEOUT, run.messages, writer.bytes)
                link = again
                notice(f"connected again to {settings.broker.label}")
    finally:
        try:
            run.flush()
            writer.close()
        finally:
            link.close()
