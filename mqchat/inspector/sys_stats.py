"""The broker's own statistics from its ``$SYS/#`` topics (mosquitto's names; EMQX,
HiveMQ and others publish similar ones under other names, which still show in the
full list): a few headline figures a person looks for first, then every ``$SYS``
topic with its last value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mqchat.core.text import display_safe
from mqchat.inspector.capture import Captured

__all__ = ["HEADLINES", "SYS_FILTER", "SysFigure", "headline_figures", "sys_rows", "sys_value"]

SYS_FILTER = "$SYS/#"
"""A plain ``#`` does not match ``$SYS`` topics (MQTT 4.7.2): they need their own."""

HEADLINES: tuple[tuple[str, str], ...] = (
    ("version", "$SYS/broker/version"),
    ("uptime", "$SYS/broker/uptime"),
    ("clients connected", "$SYS/broker/clients/connected"),
    ("clients disconnected", "$SYS/broker/clients/disconnected"),
    ("clients maximum", "$SYS/broker/clients/maximum"),
    ("subscriptions", "$SYS/broker/subscriptions/count"),
    ("retained messages", "$SYS/broker/retained messages/count"),
    ("messages received", "$SYS/broker/messages/received"),
    ("messages sent", "$SYS/broker/messages/sent"),
    ("messages stored", "$SYS/broker/messages/stored"),
    ("bytes received", "$SYS/broker/bytes/received"),
    ("bytes sent", "$SYS/broker/bytes/sent"),
    ("msgs in /min (1 min avg)", "$SYS/broker/load/messages/received/1min"),
    ("msgs out /min (1 min avg)", "$SYS/broker/load/messages/sent/1min"),
    ("publish dropped /min", "$SYS/broker/load/publish/dropped/1min"),
    ("heap", "$SYS/broker/heap/current"),
)
"""(label, topic) of the figures shown first, in this order, when the broker has them."""

VALUE_CHARS = 80
"""A ``$SYS`` value longer than this is cut (they are short numbers and names)."""


@dataclass(frozen=True, slots=True)
class SysFigure:
    label: str
    value: str
    topic: str


def sys_value(payload: bytes) -> str:
    """A ``$SYS`` payload as one safe line: decoded, control characters made visible,
    cut to :data:`VALUE_CHARS`."""
    text = payload[: VALUE_CHARS * 4].decode("utf-8", errors="replace").strip()
    text = display_safe(" ".join(text.split()))
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def headline_figures(last: dict[str, Captured]) -> list[SysFigure]:
    """The :data:`HEADLINES` present in ``last`` (topic → newest message); whole
    numbers with thousands separators."""
    figures = []
    for label, topic in HEADLINES:
        if topic in last:
            value = sys_value(last[topic].payload)
            if value.isdigit() and len(value) < 20:
                value = f"{int(value):,}"
            figures.append(SysFigure(label, value, topic))
    return figures


def sys_rows(messages: Iterable[Captured]) -> dict[str, Captured]:
    """Topic → newest message, of the ``$SYS`` topics among ``messages``, sorted by
    topic."""
    newest: dict[str, Captured] = {}
    for message in messages:
        if message.topic.startswith("$SYS/"):
            held = newest.get(message.topic)
            if held is None or held.seq < message.seq:
                newest[message.topic] = message
    return dict(sorted(newest.items()))
