"""The one client factory: what a connection to the broker in the settings looks like
(address, TCP/TLS/WebSocket, login, client id, session, keepalive, TCP_NODELAY), made
once and handed to aiomqtt for the chat or to paho for the fast link."""

from __future__ import annotations

import logging
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from typing import TypeVar

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.config.settings import Settings
from mqchat.mqtt.protocol import Protocol
from mqchat.mqtt.shims import raw_socket
from mqchat.mqtt.tls import ssl_context

__all__ = ["ClientOptions", "client_options", "connect_paho", "new_aiomqtt", "new_paho"]

# paho's own log. Its error lines ("failed to receive on socket: [SSL: …]") are what
# describe_failure turns into words; with no handler anywhere Python would also print
# them raw on stderr, a second, cryptic line under a command's one-line reason.
_PAHO_LOG = logging.getLogger("mqchat.paho")
_PAHO_LOG.addHandler(logging.NullHandler())

C = TypeVar("C", bound=paho.Client)

PENDING_CALLS_WARNING = 100
"""Calls awaiting the broker's answer beyond which aiomqtt logs a warning."""


@dataclass(frozen=True)
class ClientOptions:
    """One connection attempt, independent of the client library."""

    host: str
    port: int
    protocol: Protocol
    client_id: str
    persistent: bool
    """Resume (or start) the broker-side session of ``client_id``; else a clean one."""
    session_expiry: int
    username: str
    password: str | None = field(repr=False)
    keepalive: int
    connect_timeout: float
    websocket_path: str | None
    """The HTTP path of a WebSocket connection; ``None`` for plain TCP."""
    tls: ssl.SSLContext | None
    max_incoming: int | None = None
    """The largest packet we take (MQTT 5 Maximum Packet Size in CONNECT): the broker
    drops larger ones instead of sending them. ``None``: no limit announced."""


def client_options(
    settings: Settings,
    protocol: Protocol,
    *,
    session_id: str | None = None,
    role: str = "",
    max_incoming: int | None = None,
) -> ClientOptions:
    """The connection the settings describe. With ``session_id`` it resumes (or
    starts) the persistent session of that client id: the broker keeps our
    subscriptions and queues QoS 1 messages while we are away, for
    ``settings.session_expiry`` seconds with MQTT 5 (with 3.1.1, for as long as the
    broker keeps sessions). Without it the session is clean and the id random,
    ``mqchat-<role or user>-…``, so a one-shot command never disturbs the chat's.
    Raises :class:`~mqchat.mqtt.tls.TlsSetupError` if the TLS files cannot be used."""
    url = settings.broker
    return ClientOptions(
        host=url.host,
        port=url.port,
        protocol=protocol,
        client_id=session_id or f"mqchat-{role or settings.user}-{uuid.uuid4().hex[:8]}",
        persistent=session_id is not None,
        session_expiry=settings.session_expiry,
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        keepalive=settings.keepalive,
        connect_timeout=settings.connect_timeout,
        websocket_path=url.path if url.websocket else None,
        tls=ssl_context(settings.tls) if url.tls else None,
        max_incoming=max_incoming,
    )


def new_aiomqtt(options: ClientOptions, will: aiomqtt.Will | None = None) -> aiomqtt.Client:
    """An aiomqtt client for ``options``. Must be called inside the running loop."""
    extra: dict[str, object] = {}
    if options.protocol is Protocol.V5:
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if options.persistent:
            # Both are needed: aiomqtt's default (clean start on the first attempt
            # only) would wipe the session every time a new Client is made.
            connect.SessionExpiryInterval = options.session_expiry
        if options.max_incoming is not None:
            connect.MaximumPacketSize = options.max_incoming
        extra["clean_start"] = not options.persistent
        extra["properties"] = connect
    else:
        extra["clean_session"] = not options.persistent
    client = aiomqtt.Client(
        options.host,
        options.port,
        username=options.username or None,
        password=options.password,
        identifier=options.client_id,
        protocol=(
            aiomqtt.ProtocolVersion.V5
            if options.protocol is Protocol.V5
            else aiomqtt.ProtocolVersion.V311
        ),
        will=will,
        keepalive=options.keepalive,
        timeout=options.connect_timeout,
        # Chat is many small packets, each waited for (a PUBACK, then the next
        # PUBLISH): with Nagle's algorithm on, each of them can sit ~40 ms in the
        # kernel waiting for the previous one's TCP acknowledgement.
        socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        transport="websockets" if options.websocket_path is not None else "tcp",
        websocket_path=options.websocket_path,
        tls_context=options.tls,
        logger=_PAHO_LOG,
        **extra,  # type: ignore[arg-type]
    )
    # The chat keeps up to 16 publishes waiting for their PUBACK (chat/outbound.py);
    # aiomqtt warns in the log at every publish beyond 10.
    client.pending_calls_threshold = PENDING_CALLS_WARNING
    return client


def new_paho(cls: type[C], options: ClientOptions) -> C:
    """A paho client of class ``cls`` for ``options`` (a clean session); paho's own
    reconnecting is off, the caller decides. Anonymous when there is no user name."""
    v5 = options.protocol is Protocol.V5
    client = cls(
        CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        clean_session=None if v5 else not options.persistent,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        reconnect_on_failure=False,
    )
    if options.username:
        client.username_pw_set(options.username, options.password)
    client.connect_timeout = options.connect_timeout
    if options.websocket_path is not None:
        client.transport = "websockets"
        client.ws_set_options(path=options.websocket_path)
    if options.tls is not None:
        client.tls_set_context(options.tls)
    return client


def connect_paho(client: paho.Client, options: ClientOptions) -> None:
    """Open the connection (CONNECT sent; the CONNACK is the caller's to wait for).
    Raises what paho raises (``OSError``, ``ValueError``)."""
    extra = {"clean_start": not options.persistent} if options.protocol is Protocol.V5 else {}
    client.connect(options.host, options.port, keepalive=options.keepalive, **extra)  # type: ignore[arg-type]
    sock = raw_socket(client.socket())
    if sock is not None:
        # Requests and publishes wait for their answers one by one: with Nagle's
        # algorithm on, each small packet could sit ~40 ms in the kernel.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
