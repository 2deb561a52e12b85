"""``mqchat clear-retained``: find the retained messages under a filter and clear each
one with an empty retained publish. Live (non-retained) traffic is never touched."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.config.settings import Settings
from mqchat.mqtt.connection import Protocol
from mqchat.mqtt.link import Link, LinkError, open_link

__all__ = ["ClearRequest", "ClearResult", "clear_retained"]


@dataclass(frozen=True, slots=True)
class ClearRequest:
    topic_filter: str
    """Already checked (:func:`~mqchat.tools.rules.check_filter`)."""
    dry_run: bool = False
    """Only list what would be cleared."""
    settle: float = 0.5
    """Retained messages come right after the SUBACK: collecting ends once none has
    come for this many seconds."""
    timeout: float = 10.0
    """Collecting ends after this many seconds anyway, even if they keep coming."""
    passes: int = 3
    """After clearing, look again (a broker may have dropped some of a huge set from
    its queue, or somebody republished); clear and look again at most this often."""


@dataclass(slots=True)
class ClearResult:
    found: list[str] = field(default_factory=list)
    """Every topic seen with a retained message, in the order found."""
    cleared: int = 0
    """Empty retained messages the broker accepted."""
    refused: dict[str, str] = field(default_factory=dict)
    """Topic -> the broker's reason, for clears it refused (MQTT 5 only tells)."""
    remaining: list[str] = field(default_factory=list)
    """Topics still retained after the last pass (never cleared in a dry run)."""


def _collect(link: Link, request: ClearRequest) -> list[str]:
    """Subscribe, note the topic of every retained message until they stop coming,
    unsubscribe. Live messages (retain flag off) are ignored."""
    topics: dict[str, None] = {}
    last = [time.monotonic()]

    def on_message(msg: mqtt.MQTTMessage) -> None:
        if msg.retain and msg.payload:
            topics[msg.topic] = None
            last[0] = time.monotonic()

    link.on_message(on_message)
    # QoS 1: a broker keeps QoS 1 messages for a slow reader rather than dropping them.
    link.subscribe([request.topic_filter], 1)
    started = last[0] = time.monotonic()
    while True:
        now = time.monotonic()
        quiet_left = last[0] + request.settle - now
        total_left = started + request.timeout - now
        if quiet_left <= 0 or total_left <= 0:
            break
        link.step(min(quiet_left, total_left))
    link.unsubscribe([request.topic_filter])
    return list(topics)


def _clear(
    link: Link, topics: list[str], result: ClearResult, timeout: float, *, window: int
) -> None:
    """An empty retained message, QoS 1, to each topic, at most ``window`` of them
    unacknowledged at a time; wait for every PUBACK. ``result`` is updated as each
    PUBACK comes, so it is right even when the connection drops half way."""
    by_mid: dict[int, str] = {}
    answered = 0

    def on_published(mid: int, code: ReasonCode) -> None:
        nonlocal answered
        answered += 1
        if code.is_failure:
            result.refused[by_mid[mid]] = str(code)
        else:
            result.cleared += 1

    link.on_published(on_published)
    for topic in topics:
        by_mid[link.publish(topic, b"", 1, True)] = topic
        if len(by_mid) - answered >= window:
            link.wait_for(lambda: len(by_mid) - answered < window, timeout, "PUBACK")
    link.wait_for(lambda: answered >= len(by_mid), timeout, "PUBACK")


def clear_retained(
    settings: Settings,
    request: ClearRequest,
    *,
    protocol: Protocol | None = None,
    on_found: Callable[[str], None] = lambda _topic: None,
) -> ClearResult:
    """Find (and unless ``request.dry_run``, clear) the retained messages under
    ``request.topic_filter``; ``on_found`` hears of each topic once, as soon as it is
    known. Raises :class:`LinkError`.

    mosquitto 2.0 (with ``max_queued_messages 0``) drops a client right after
    refusing its QoS 1 publish, and with clears still unread it resets the
    connection, so even the refusal can be lost. After such a drop the rest is
    cleared on a new connection one topic at a time, which shows which topic is
    refused; each refusal learnt this way does not count as a pass."""
    result = ClearResult()
    link = open_link(settings, protocol, role="clear")
    passes_left = max(1, request.passes)
    one_by_one = False
    try:
        while True:
            if not link.connected:
                link = open_link(settings, link.protocol, role="clear")
            topics = [t for t in _collect(link, request) if t not in result.refused]
            known = set(result.found)
            for topic in topics:
                if topic not in known:
                    result.found.append(topic)
                    on_found(topic)
            result.remaining = topics
            if request.dry_run or not topics or passes_left == 0:
                return result
            passes_left -= 1
            refused = len(result.refused)
            timeout = settings.connect_timeout * 2 + len(topics) / 1000
            try:
                _clear(link, topics, result, timeout, window=1 if one_by_one else len(topics))
            except LinkError:
                if one_by_one and len(result.refused) == refused:
                    raise  # dropped for no reason we can see: a real failure
                one_by_one = True
                passes_left += 1
                link.close()
                continue
            if len(result.refused) > refused:
                passes_left += 1
    finally:
        link.close()
