"""``mqchat replay``: publish a recording again with its original timing (or as fast
as the broker takes it), each message with its QoS, retain flag and MQTT 5
properties, under an optional topic prefix. The recording is read as a stream, so a
long one costs no more memory than a short one; at most ``_WINDOW`` messages are
on their way at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mqchat.config.settings import Settings
from mqchat.core.message import Message
from mqchat.inspector.recording import open_recording
from mqchat.mqtt.errors import LinkError
from mqchat.mqtt.link import Link, open_link
from mqchat.mqtt.properties import MappedProperties
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.mqtt.qos_limit import downgrade_notice
from mqchat.tools.pub import Completions

__all__ = ["ReplayRequest", "ReplayResult", "replay"]

_WINDOW = 1000
"""Published but not complete (QoS 0: not yet written) at most."""


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    path: Path
    speed: float | None = 1.0
    """Times faster than recorded; ``None``: as fast as the broker takes them."""
    prefix: str = ""
    """Put in front of every topic (a ``/`` is added when missing)."""
    loop: bool = False
    """Start again at the end, until stopped."""


@dataclass(slots=True)
class ReplayResult:
    attempted: int = 0
    sent: int = 0
    """Messages the broker has (written at QoS 0, PUBACK or PUBCOMP received)."""
    skipped: int = 0
    """``$`` topics (``$SYS``…) left out: a client may not publish them."""
    passes: int = 0
    seconds: float = 0.0
    refused: list[str] = field(default_factory=list)
    lost: str | None = None
    note: str | None = None
    """The recording's end was cut short or damaged (see :class:`Reading`)."""


def _prefix(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


class _Player(Completions[ReplayResult]):
    def __init__(self, link: Link, request: ReplayRequest, notice: Callable[[str], None]) -> None:
        self.link = link
        self.request = request
        self.notice = notice
        self.result = ReplayResult()
        self.prefix = _prefix(request.prefix)
        self._max_qos: int | None = None
        link.on_published(self._done)

    def play(self, messages: Iterable[Message]) -> None:
        """One pass over the recording, on its own clock."""
        link, speed, prefix, result = self.link, self.request.speed, self.prefix, self.result
        first: float | None = None
        start = time.monotonic()
        for msg in messages:
            if not prefix and msg.topic.startswith("$"):
                result.skipped += 1
                continue
            if speed is not None:
                if first is None:
                    first = msg.ts
                due = start + (msg.ts - first) / speed
                while (wait := due - time.monotonic()) > 0:
                    link.step(min(wait, 1.0))
            while self.outstanding >= _WINDOW:
                link.step(1.0)
            qos = msg.qos if msg.qos < 2 else min(2, self._allowed_qos(prefix + msg.topic))
            props = MappedProperties(msg.properties) if msg.properties else None
            result.attempted += 1  # first: at QoS 0 paho reports it done inside publish()
            link.publish(prefix + msg.topic, msg.payload, qos, msg.retain, props)

    def _allowed_qos(self, topic: str) -> int:
        if self._max_qos is None:
            self._max_qos = self.link.allowed_qos(topic)
            if self._max_qos < 2:
                label = self.link.settings.broker.label
                self.notice(downgrade_notice(label, 2, self._max_qos, what="replaying"))
        return self._max_qos


def replay(
    settings: Settings,
    request: ReplayRequest,
    *,
    notice: Callable[[str], None] = lambda _line: None,
) -> ReplayResult:
    """Publish the recording at ``request.path`` and wait until the broker has every
    message. Raises :class:`~mqchat.inspector.recording.RecordingError` (before
    connecting) when the file is not a recording, :class:`LinkError` when no
    connection can be made; a connection lost later is in ``lost``."""
    reading = open_recording(request.path)
    try:
        link = open_link(settings, ProtocolChoice.of(settings), role="replay")
    except BaseException:
        reading.close()
        raise
    player = _Player(link, request, notice)
    result = player.result
    started = time.monotonic()
    try:
        while True:
            before = result.attempted + result.skipped
            player.play(reading.messages())
            result.passes += 1
            result.note = result.note or reading.note
            if not request.loop or result.attempted + result.skipped == before:
                break
            reading = open_recording(request.path)
        link.wait_for(lambda: player.outstanding == 0, settings.connect_timeout * 2, "acks")
    except LinkError as exc:
        result.lost = exc.reason
    finally:
        result.seconds = time.monotonic() - started
        link.close()
    return result
