"""The highest QoS a broker takes, so mqchat never publishes above it: NATS (and
mosquitto with ``max_qos 1``) close the connection on a QoS 2 PUBLISH.

With MQTT 5 the broker says so in its CONNACK (Maximum QoS; absent means 2). An MQTT
3.1.1 broker cannot say, but it grants at most what it supports to a subscription
(:meth:`~mqchat.mqtt.link.Link.allowed_qos` probes with one)."""

from __future__ import annotations

from paho.mqtt.properties import Properties

from mqchat.mqtt.errors import Reason

__all__ = ["connack_max_qos", "downgrade_notice", "granted_qos"]


def connack_max_qos(properties: Properties | None) -> int | None:
    """What an MQTT 5 CONNACK allows (2 when it says nothing); ``None`` without
    properties (MQTT 3.1.1), where only a probe can tell."""
    if properties is None:
        return None
    value = getattr(properties, "MaximumQoS", None)
    return 2 if value is None else int(value)


def granted_qos(code: Reason) -> int | None:
    """The QoS a SUBACK granted, or ``None`` when it refused the filter."""
    return None if code.is_failure else code.value


def downgrade_notice(where: str, asked: int, allowed: int, *, what: str) -> str:
    """The one line that says a request went out at a lower QoS than asked."""
    return (
        f"{where} takes QoS {allowed} at most (NATS and some brokers have no QoS 2); "
        f"{what} at QoS {allowed} instead of {asked}"
    )
