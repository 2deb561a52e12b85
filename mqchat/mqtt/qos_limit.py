"""The highest QoS a broker takes, so mqchat never publishes above it: NATS (and
mosquitto with ``max_qos 1``) close the connection on a QoS 2 PUBLISH.

With MQTT 5 the broker says so in its CONNACK (Maximum QoS; absent means 2). An MQTT
3.1.1 broker cannot say, but it grants at most what it supports to a subscription:
a QoS 2 subscription to the topic about to be published tells (:func:`probe_max_qos`),
at the cost of one round trip and only when QoS 2 is asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

if TYPE_CHECKING:  # direct.py reads the CONNACK with connack_max_qos
    from mqchat.mqtt.link import Link

__all__ = ["connack_max_qos", "downgrade_notice", "granted_qos", "probe_max_qos"]


def connack_max_qos(properties: Properties | None) -> int | None:
    """What an MQTT 5 CONNACK allows (2 when it says nothing); ``None`` without
    properties (MQTT 3.1.1), where only :func:`probe_max_qos` can tell."""
    if properties is None:
        return None
    value = getattr(properties, "MaximumQoS", None)
    return 2 if value is None else int(value)


def granted_qos(code: ReasonCode) -> int | None:
    """The QoS a SUBACK granted, or ``None`` when it refused the filter."""
    return None if code.is_failure else int(code.value)


def probe_max_qos(link: Link, topic: str) -> int:
    """The highest QoS ``link``'s broker takes for ``topic``. MQTT 5: from the
    CONNACK. MQTT 3.1.1: subscribe to ``topic`` at QoS 2 and unsubscribe; what the
    SUBACK grants is the answer. A refused probe (an ACL) tells nothing: 2."""
    known = link.max_qos
    if known is not None:
        return known
    codes = link.try_subscribe([topic], 2)
    link.unsubscribe([topic])
    granted = granted_qos(codes[0]) if codes else None
    link.max_qos = 2 if granted is None else granted
    return link.max_qos


def downgrade_notice(where: str, asked: int, allowed: int, *, what: str) -> str:
    """The one line that says a request went out at a lower QoS than asked."""
    return (
        f"{where} takes QoS {allowed} at most (NATS and some brokers have no QoS 2); "
        f"{what} at QoS {allowed} instead of {asked}"
    )
