"""paho-mqtt clients for the fast paths (the headless ``sub``/``pub`` and the
inspector's feed), which do without aiomqtt because it drains a flood several times
slower (FACTS.md): one way to make and connect them, and one short decoding path for
the flood case."""

from __future__ import annotations

import socket
import time
import uuid
from typing import TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from mqchat.config.settings import Settings
from mqchat.mqtt.connection import Protocol
from mqchat.mqtt.tls import ssl_context

__all__ = ["FastClient", "connect_client", "new_client"]

C = TypeVar("C", bound=mqtt.Client)


class FastClient(mqtt.Client):
    """paho with a short path for the flood case, a QoS 0 PUBLISH without MQTT 5
    properties: paho's general decoder spends about half of each message building an
    empty Properties object. Anything else goes paho's way. Overrides private parts
    of paho-mqtt 2.x (``_handle_publish``, ``_in_packet``); tests/unit/test_pubsub_unit.py
    and tests/broker/test_inspector_feed.py check the result against paho's own decoding,
    so a paho upgrade that moves them fails there."""

    def _handle_publish(self) -> MQTTErrorCode:
        packet = self._in_packet
        header, data = packet["command"], packet["packet"]
        if header & 0x06 or len(data) < 3:  # QoS 1 or 2
            return super()._handle_publish()
        end = 2 + ((data[0] << 8) | data[1])
        if self._protocol == mqtt.MQTTv5:
            if len(data) <= end or data[end] != 0 or end == 2:  # properties, or an alias
                return super()._handle_publish()
            start = end + 1
        else:
            if end == 2 or len(data) < end:
                return super()._handle_publish()
            start = end
        message = mqtt.MQTTMessage(topic=bytes(data[2:end]))
        message.retain = bool(header & 0x01)
        message.dup = bool(header & 0x08)
        message.payload = bytes(data[start:])
        message.properties = None
        message.timestamp = time.monotonic()
        self._handle_on_message(message)
        return MQTTErrorCode.MQTT_ERR_SUCCESS


def new_client(cls: type[C], settings: Settings, protocol: Protocol, role: str) -> C:
    """A client of class ``cls`` for one clean-session connection with a random id
    ``mqchat-<role>-…``, logged in as ``settings.mqtt_username`` (anonymous when
    empty); paho's own reconnecting is off, the caller decides."""
    v5 = protocol is Protocol.V5
    client = cls(
        CallbackAPIVersion.VERSION2,
        client_id=f"mqchat-{role}-{uuid.uuid4().hex[:8]}",
        clean_session=None if v5 else True,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        reconnect_on_failure=False,
    )
    username = settings.mqtt_username
    if username:
        client.username_pw_set(username, settings.mqtt_password)
    client.connect_timeout = settings.connect_timeout
    return client


def connect_client(client: mqtt.Client, settings: Settings, protocol: Protocol) -> None:
    """Open the connection (CONNECT sent; the CONNACK is the caller's to wait for),
    over TLS and/or WebSockets as the broker URL says. Raises what paho raises
    (``OSError``, ``ValueError``), and ``TlsSetupError`` (a ``ValueError``) when the
    TLS files cannot be used."""
    url = settings.broker
    if url.websocket:
        client.transport = "websockets"
        client.ws_set_options(path=url.path)
    if url.tls:
        client.tls_set_context(ssl_context(settings.tls))
    client.connect(
        url.host,
        url.port,
        keepalive=settings.keepalive,
        **({"clean_start": True} if protocol is Protocol.V5 else {}),  # type: ignore[arg-type]
    )
    sock = client.socket()
    # an SSLSocket is a socket.socket; paho's WebSocket wrapper is not, but has one
    raw = getattr(sock, "_socket", sock)
    if isinstance(raw, socket.socket):
        # Requests and publishes wait for their answers one by one: with Nagle's
        # algorithm on, each small packet could sit ~40 ms in the kernel.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
