"""A message paho read, as mqchat's :class:`~mqchat.core.message.Message`."""

from __future__ import annotations

from collections.abc import Callable

import paho.mqtt.client as paho

from mqchat.core.message import Message
from mqchat.mqtt.properties import property_map
from mqchat.mqtt.shims import topic_of

__all__ = ["message_from_paho"]


def message_from_paho(
    msg: paho.MQTTMessage,
    clock: Callable[[], float],
    size: int | None = None,
    max_payload: int | None = None,
) -> Message:
    """paho's message as ours (what :class:`~mqchat.mqtt.fast_paho.FastPaho`'s short
    path builds directly), its payload cut to ``max_payload`` bytes; ``size`` is the
    payload's length as sent when paho's is already a cut."""
    props = property_map(getattr(msg, "properties", None))
    payload = msg.payload
    if max_payload is not None and len(payload) > max_payload:
        size, payload = size or len(payload), payload[:max_payload]
    retain = bool(msg.retain)
    return Message(topic_of(msg), bytes(payload), msg.qos, retain, props, clock(), size)
