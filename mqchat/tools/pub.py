"""``mqchat pub``: publish one message, or one message per line of a stream (like
mosquitto_pub -l), and wait until the broker has every one."""

from __future__ import annotations

import os
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from mqchat.config.settings import Settings
from mqchat.mqtt.errors import LinkError, Reason
from mqchat.mqtt.link import Link, open_link
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.qos_limit import downgrade_notice

__all__ = ["PublishRequest", "PublishResult", "publish_lines", "publish_payloads"]

_MAX_OUTSTANDING = 1000  # published but not yet complete; stdin waits beyond this
_READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class PublishRequest:
    topic: str
    """Already checked (:func:`~mqchat.tools.rules.check_topic`)."""
    qos: int = 0
    retain: bool = False


@dataclass(slots=True)
class PublishResult:
    attempted: int = 0
    """Messages handed to paho."""
    sent: int = 0
    """Messages the broker has (written at QoS 0, PUBACK or PUBCOMP received)."""
    refused: list[str] = field(default_factory=list)
    """The reasons of those the broker refused (MQTT 5 PUBACK/PUBREC codes >= 0x80)."""
    lost: str | None = None
    """Why the connection dropped before every message was complete, if it did."""
    qos: int | None = None
    """The QoS the messages went out at: lower than asked when the broker has no
    QoS 2 (:meth:`~mqchat.mqtt.link.Link.allowed_qos`)."""


class Counts(typing.Protocol):
    attempted: int
    sent: int
    refused: list[str]


R = TypeVar("R", bound=Counts)


class Completions(Generic[R]):
    """Counts publishes and their completions in ``result``, and keeps the broker's
    refusals (``mqchat pub`` and ``mqchat replay``); ``link.on_published(self._done)``."""

    result: R

    def _done(self, _mid: int, code: Reason) -> None:
        if code.is_failure:
            self.result.refused.append(str(code))
        else:
            self.result.sent += 1

    @property
    def outstanding(self) -> int:
        result = self.result
        return result.attempted - result.sent - len(result.refused)


class _Tracker(Completions[PublishResult]):
    """Counts publishes and their completions, and keeps the broker's refusals."""

    def __init__(self, link: Link, request: PublishRequest, notice: Callable[[str], None]) -> None:
        self.link = link
        self.request = _within_broker_qos(link, request, notice)
        self.result = PublishResult(qos=self.request.qos)
        link.on_published(self._done)

    def publish(self, payload: bytes) -> None:
        self.result.attempted += 1  # first: at QoS 0 paho reports it done inside publish()
        self.link.publish(self.request.topic, payload, self.request.qos, self.request.retain)

    def finish(self, timeout: float) -> None:
        """Wait until every publish is complete."""
        self.link.wait_for(lambda: self.outstanding == 0, timeout, "acknowledgement")


def _within_broker_qos(
    link: Link, request: PublishRequest, notice: Callable[[str], None]
) -> PublishRequest:
    """``request`` at a QoS the broker takes. A QoS 2 PUBLISH to a broker without
    QoS 2 makes it drop the connection (NATS, mosquitto's ``max_qos``): degrade to
    what it grants, as the broker itself does for a QoS 2 subscription, and say so
    (docs/brokers.md#how-mqchat-degrades)."""
    if request.qos < 2:
        return request
    allowed = link.allowed_qos(request.topic)
    if allowed >= request.qos:
        return request
    label = link.settings.broker.label
    notice(downgrade_notice(label, request.qos, allowed, what="publishing"))
    return replace(request, qos=allowed)


def publish_payloads(
    settings: Settings,
    request: PublishRequest,
    payloads: Iterable[bytes],
    *,
    protocol: Protocol | None = None,
    notice: Callable[[str], None] = lambda _line: None,
) -> PublishResult:
    """Publish each payload (usually one) and wait for all. Raises :class:`LinkError`
    if no connection can be made; a connection lost later is in ``lost``. ``notice``
    hears of a QoS lowered to what the broker takes."""
    link = open_link(settings, ProtocolChoice.of(settings, protocol), role="pub")
    try:
        tracker = _Tracker(link, request, notice)
    except LinkError as exc:
        link.close()
        return PublishResult(lost=exc.reason)
    try:
        for payload in payloads:
            tracker.publish(payload)
        tracker.finish(settings.connect_timeout * 2)
    except LinkError as exc:
        tracker.result.lost = exc.reason
    finally:
        link.close()
    return tracker.result


def publish_lines(
    settings: Settings,
    request: PublishRequest,
    fd: int,
    *,
    protocol: Protocol | None = None,
    notice: Callable[[str], None] = lambda _line: None,
) -> PublishResult:
    """One message per line read from ``fd``, without its ``\\n`` (a ``\\r`` stays,
    an empty line is an empty message, a last line without newline is sent), as
    mosquitto_pub -l does. Lines go out as they are read, so a slow stream (``tail
    -f``) is published live while the connection is kept alive. Raises
    :class:`LinkError` if no connection can be made; a connection lost later (the
    rest of the stream is then not read) is in ``lost``."""
    link = open_link(settings, ProtocolChoice.of(settings, protocol), role="pub")
    try:
        tracker = _Tracker(link, request, notice)
    except LinkError as exc:
        link.close()
        return PublishResult(lost=exc.reason)
    try:
        pending = bytearray()
        while True:
            watch = [fd] if tracker.outstanding < _MAX_OUTSTANDING else []
            if fd not in link.step(1.0, watch=watch):
                continue
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                if pending:
                    tracker.publish(bytes(pending))
                break
            pending += chunk
            end = pending.rfind(b"\n")
            if end >= 0:
                for line in bytes(pending[:end]).split(b"\n"):
                    tracker.publish(line)
                del pending[: end + 1]
        tracker.finish(settings.connect_timeout * 2)
    except LinkError as exc:
        tracker.result.lost = exc.reason
    finally:
        link.close()
    return tracker.result
