"""Acknowledging inbound QoS 1 messages ourselves, after they are safe in the store.

aiomqtt 2.x has no public API for this; paho underneath does. Both calls are kept
here, in one place, so an aiomqtt upgrade that moves them breaks one small tested
module rather than the chat."""

from __future__ import annotations

import aiomqtt
import paho.mqtt.client as paho

__all__ = ["acknowledge", "enable_manual_ack"]


def _paho(client: aiomqtt.Client) -> paho.Client:
    inner = getattr(client, "_client", None)
    if not isinstance(inner, paho.Client):  # pragma: no cover - an aiomqtt we do not know
        raise RuntimeError("this aiomqtt version does not expose its paho client")
    return inner


def enable_manual_ack(client: aiomqtt.Client) -> None:
    """From now on ``client`` sends no PUBACK by itself. Call before connecting."""
    _paho(client).manual_ack_set(True)


def acknowledge(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """Send the PUBACK of ``message`` (nothing for QoS 0). Until this is called the
    broker keeps the message and delivers it again on the next connection of a
    persistent session."""
    if message.qos > 0:
        _paho(client).ack(message.mid, message.qos)
