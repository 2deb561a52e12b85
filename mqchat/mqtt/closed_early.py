"""A connection the broker closes before answering CONNECT: a 3.1.1-only broker
meeting MQTT 5, a TLS port meeting plain MQTT, a broker that wants a client
certificate. aiomqtt ignores the close and waits out its whole timeout; here the
attempt fails at once, with the reason paho only writes to its log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt

__all__ = ["ClosedBeforeConnack", "fail_fast_before_connack", "watch_socket_errors"]

_READ_FAILED = "failed to receive on socket: "


class ClosedBeforeConnack(aiomqtt.MqttError):
    """The broker closed the connection after CONNECT, without a CONNACK.
    ``socket_error``: why reading failed, when the socket said (e.g. a TLS alert);
    ``mqtt5``: the CONNECT was MQTT 5 (which some brokers hang up on)."""

    def __init__(self, socket_error: str | None = None, *, mqtt5: bool = False) -> None:
        text = "the broker closed the connection before answering"
        super().__init__(f"{text}: {socket_error}" if socket_error else text)
        self.socket_error = socket_error
        self.mqtt5 = mqtt5


def watch_socket_errors(client: mqtt.Client) -> Callable[[], str | None]:
    """Keep the last reason paho gives for a failed socket read (it reports only
    "connection lost" to callbacks, and the reason, e.g. ``[SSL:
    TLSV13_ALERT_CERTIFICATE_REQUIRED]``, to its log). Returns a getter.

    Meant for the connection attempt only: set ``client.on_log = None`` once the
    CONNACK is in, because paho formats every log line, one per packet, for a
    watcher."""
    seen: list[str] = []

    def on_log(_client: object, _userdata: object, level: int, text: str) -> None:
        if level == mqtt.MQTT_LOG_ERR and text.startswith(_READ_FAILED):
            seen[:] = [text.removeprefix(_READ_FAILED)]

    client.on_log = on_log
    return lambda: seen[-1] if seen else None


def fail_fast_before_connack(client: aiomqtt.Client) -> None:
    """Make ``async with client`` raise :class:`ClosedBeforeConnack` as soon as the
    broker closes the connection before its CONNACK. Wraps aiomqtt 2.x's private
    ``_client`` and ``_connected`` (as manual_ack.py does); tests/broker/test_tls_connect.py
    fails if an upgrade moves them."""
    paho: mqtt.Client = client._client
    last_error = watch_socket_errors(paho)
    on_disconnect: Any = paho.on_disconnect  # aiomqtt's, set in its __init__

    def closed(*args: Any) -> None:
        # paho calls this on its socket callbacks, which aiomqtt runs on the loop.
        waiting = client._connected
        if not waiting.done():
            mqtt5 = paho.protocol == mqtt.MQTTv5
            waiting.set_exception(ClosedBeforeConnack(last_error(), mqtt5=mqtt5))
        on_disconnect(*args)

    on_connect: Any = paho.on_connect

    def answered(*args: Any) -> None:
        paho.on_log = None  # connected: stop watching, see watch_socket_errors
        on_connect(*args)

    paho.on_disconnect = closed
    paho.on_connect = answered
