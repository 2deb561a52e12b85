"""What the broker's CONNACK said: aiomqtt keeps none of it, so a callback on its paho
client notes it (:func:`mqchat.mqtt.shims.paho_of` reaches the paho client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

from mqchat.mqtt.shims import paho_of

__all__ = ["Connack", "watch_connack"]


@dataclass
class Connack:
    """What the broker's CONNACK said, once it came (``None`` before)."""

    session_present: bool | None = None
    """The broker still had our session (subscriptions, queued messages)."""
    max_packet_size: int | None = None
    """The largest packet the broker takes (MQTT 5, when it sets one)."""
    properties: dict[str, Any] | None = None
    """Every property of an MQTT 5 CONNACK by paho's names (``MaximumQoS``,
    ``RetainAvailable``…); ``None`` with 3.1.1."""


def watch_connack(client: aiomqtt.Client) -> Connack:
    """Note the CONNACK's session-present flag, Maximum Packet Size and other
    properties (aiomqtt keeps none of them). Call before connecting."""
    inner = paho_of(client)
    seen = Connack()
    on_connect: Any = inner.on_connect  # aiomqtt's, or a shim's wrapping it

    def noted(c: paho.Client, userdata: Any, flags: Any, code: Any, props: Any = None) -> None:
        seen.session_present = bool(getattr(flags, "session_present", False))
        seen.max_packet_size = getattr(props, "MaximumPacketSize", None)
        if props is not None and c.protocol == paho.MQTTv5:
            seen.properties = props.json()
        on_connect(c, userdata, flags, code, props)

    inner.on_connect = noted
    return seen
