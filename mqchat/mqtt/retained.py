"""Retained messages under a filter: find which topics hold one, and clear them with
empty retained publishes. Shared by ``mqchat clear-retained`` and the inspector."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from mqchat.core.message import Message
from mqchat.mqtt.errors import Reason
from mqchat.mqtt.link import Link

__all__ = ["clear_topics", "collect_retained", "retained_payloads"]


def collect_retained(
    link: Link, topic_filter: str, *, settle: float = 0.5, timeout: float = 10.0
) -> list[str]:
    """Subscribe, note the topic of every retained message until none has come for
    ``settle`` seconds (or ``timeout`` passed), unsubscribe; in the order found. Live
    messages (retain flag off) and empty ones (nothing retained) are ignored."""
    return list(retained_payloads(link, topic_filter, settle=settle, timeout=timeout))


def retained_payloads(
    link: Link, topic_filter: str, *, settle: float = 0.5, timeout: float = 10.0
) -> dict[str, bytes]:
    """As :func:`collect_retained`, with each topic's retained payload (the last one
    seen, in the order topics were first found)."""
    topics: dict[str, bytes] = {}
    last = [time.monotonic()]

    def on_message(msg: Message) -> None:
        if msg.retain and msg.payload:
            topics[msg.topic] = msg.payload
            last[0] = time.monotonic()

    link.on_message(on_message)
    # QoS 1: a broker keeps QoS 1 messages for a slow reader rather than dropping them.
    link.subscribe([topic_filter], 1)
    started = last[0] = time.monotonic()
    while True:
        now = time.monotonic()
        quiet_left = last[0] + settle - now
        total_left = started + timeout - now
        if quiet_left <= 0 or total_left <= 0:
            break
        link.step(min(quiet_left, total_left))
    link.unsubscribe([topic_filter])
    return topics


def clear_topics(
    link: Link,
    topics: Sequence[str],
    on_answer: Callable[[str, Reason], None],
    *,
    window: int,
    timeout: float,
) -> None:
    """An empty retained message, QoS 1, to each topic, at most ``window`` of them
    unacknowledged at a time; ``on_answer(topic, reason)`` hears each PUBACK as it
    comes, so what is known stays right even when the connection drops half way.
    Returns once every topic is answered; :class:`~mqchat.mqtt.errors.LinkError`."""
    by_mid: dict[int, str] = {}
    answered = 0

    def on_published(mid: int, code: Reason) -> None:
        nonlocal answered
        answered += 1
        on_answer(by_mid[mid], code)

    link.on_published(on_published)
    try:
        for topic in topics:
            by_mid[link.publish(topic, b"", 1, True)] = topic
            if len(by_mid) - answered >= window:
                link.wait_for(lambda: len(by_mid) - answered < window, timeout, "PUBACK")
        link.wait_for(lambda: answered >= len(by_mid), timeout, "PUBACK")
    finally:
        link.on_published(None)
