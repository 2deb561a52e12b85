"""Building aiomqtt clients from settings, and turning connection failures into words
a person can act on."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from dataclasses import dataclass
from enum import StrEnum

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.config.broker_url import BrokerUrl
from mqchat.config.settings import Settings
from mqchat.mqtt.closed_early import ClosedBeforeConnack, fail_fast_before_connack
from mqchat.mqtt.publish_check import watch_refusals
from mqchat.mqtt.tls import NOT_TLS, TlsSetupError, ssl_context, tls_problem

__all__ = [
    "ConnectFailure",
    "Protocol",
    "describe_failure",
    "disconnect_cause",
    "forced_protocol",
    "json_properties",
    "make_client",
    "refuses_protocol",
]

# CONNACK codes after which retrying cannot help (3.1.1: 1-5; MQTT 5: 0x80+).
_FATAL_CONNACK = {1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}
_UNSUPPORTED_PROTOCOL = {1, 0x84}
_SESSION_TAKEN_OVER = 0x8E

# paho's own log. Its error lines ("failed to receive on socket: [SSL: …]") are what
# describe_failure turns into words; with no handler anywhere Python would also print
# them raw on stderr, a second, cryptic line under a command's one-line reason.
_PAHO_LOG = logging.getLogger("mqchat.paho")
_PAHO_LOG.addHandler(logging.NullHandler())


class Protocol(StrEnum):
    """The MQTT version of a connection."""

    V5 = "5"
    V311 = "3.1.1"

    @property
    def paho(self) -> aiomqtt.ProtocolVersion:
        return aiomqtt.ProtocolVersion.V5 if self is Protocol.V5 else aiomqtt.ProtocolVersion.V311


def forced_protocol(settings: Settings) -> Protocol | None:
    """The version the user asked for (``--mqtt-version``), or ``None``: MQTT 5, and
    3.1.1 if the broker refuses 5."""
    return Protocol(settings.mqtt_version) if settings.mqtt_version else None


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    """Why connecting failed, and whether trying again can help."""

    reason: str
    fatal: bool


def make_client(
    settings: Settings,
    *,
    protocol: Protocol = Protocol.V5,
    will: aiomqtt.Will | None = None,
    session_id: str | None = None,
) -> aiomqtt.Client:
    """A client for one connection attempt. Must be called inside the running loop.

    With ``session_id`` the connection resumes (or starts) the persistent session of
    that client id: the broker keeps our subscriptions and queues QoS 1 messages
    while we are away, for ``settings.session_expiry`` seconds with MQTT 5 (with
    3.1.1, for as long as the broker keeps sessions). Without it the session is
    clean and the id random, so a one-shot command never disturbs the chat's.

    TLS (``mqtts``/``wss``) and WebSockets (``ws``/``wss``) follow the broker URL and
    ``settings.tls``; :class:`TlsSetupError` if the TLS files cannot be used."""
    url = settings.broker
    persistent = session_id is not None
    identifier = session_id or f"mqchat-{settings.user}-{uuid.uuid4().hex[:8]}"
    extra: dict[str, object] = {}
    if protocol is Protocol.V5:
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if persistent:
            # Both are needed: aiomqtt's default (clean start on the first attempt
            # only) would wipe the session every time a new Client is made.
            connect.SessionExpiryInterval = settings.session_expiry
            extra["clean_start"] = False
        else:
            extra["clean_start"] = True
        extra["properties"] = connect
    else:
        extra["clean_session"] = not persistent
    client = aiomqtt.Client(
        url.host,
        url.port,
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        identifier=identifier,
        protocol=protocol.paho,
        will=will,
        keepalive=settings.keepalive,
        timeout=settings.connect_timeout,
        # Chat is many small packets, each waited for (a PUBACK, then the next
        # PUBLISH): with Nagle's algorithm on, each of them can sit ~40 ms in the
        # kernel waiting for the previous one's TCP acknowledgement.
        socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        transport="websockets" if url.websocket else "tcp",
        websocket_path=url.path if url.websocket else None,
        tls_context=ssl_context(settings.tls) if url.tls else None,
        logger=_PAHO_LOG,
        **extra,  # type: ignore[arg-type]
    )
    fail_fast_before_connack(client)
    watch_refusals(client)
    return client


def json_properties(protocol: Protocol = Protocol.V5) -> Properties | None:
    """PUBLISH properties of an envelope: its content type with MQTT 5, none with 3.1.1."""
    if protocol is not Protocol.V5:
        return None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = "application/json"
    return props


def disconnect_cause(client: aiomqtt.Client, error: aiomqtt.MqttError) -> BaseException:
    """Why ``client`` lost its connection. aiomqtt's message iterator raises a bare
    "Disconnected during message iteration"; the broker's reason code (e.g. "session
    taken over") is kept on a private future, read here and nowhere else."""
    future = getattr(client, "_disconnected", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        cause = future.exception()
        if cause is not None:
            return cause
    return error


def _code(exc: BaseException) -> object:
    rc = getattr(exc, "rc", None)
    return getattr(rc, "value", rc)


def refuses_protocol(exc: BaseException) -> bool:
    """The broker may not speak MQTT 5: it answered CONNECT with "unsupported protocol
    version" (as a 3.1.1-only broker does), or closed the connection without a word
    (as some do) and not because of TLS. Worth one more try with MQTT 3.1.1."""
    if isinstance(exc, ClosedBeforeConnack):
        return tls_problem(exc, "", exc.socket_error) is None
    return isinstance(exc, aiomqtt.MqttError) and _code(exc) in _UNSUPPORTED_PROTOCOL


def describe_failure(exc: BaseException, settings: Settings) -> ConnectFailure:
    """Why connecting (or staying connected) failed, in one line that names the
    broker and the cause, and whether trying again can help."""
    url = settings.broker
    where = url.label
    code = _code(exc)
    if code == _SESSION_TAKEN_OVER:
        return ConnectFailure(
            f"another mqchat signed in as {settings.user} from this device and took over "
            "the session; this one stopped so the two do not keep pushing each other out",
            True,
        )
    if isinstance(code, int) and code in _FATAL_CONNACK:
        if code in (4, 0x86):
            return ConnectFailure(f"{where} refused the login: bad user name or password", True)
        if code in (5, 0x87):
            # mosquitto answers a wrong password with this code too
            return ConnectFailure(
                f"{where} refused the login: not authorized (wrong user name or password?)", True
            )
        if code in (1, 0x84):
            return ConnectFailure(f"{where} does not speak this MQTT protocol version", True)
        return ConnectFailure(f"{where} refused the connection: {exc}", True)
    if isinstance(exc, TlsSetupError):
        return ConnectFailure(str(exc), True)
    closed = exc if isinstance(exc, ClosedBeforeConnack) else None
    if url.tls:
        problem = tls_problem(exc, url.host, closed.socket_error if closed else None)
        if problem is None and closed is None and _in_chain(exc, ConnectionResetError):
            # reset while connect() ran: the TCP connection was up, so the handshake
            # met a port that does not speak TLS
            problem = NOT_TLS
        if problem is not None:
            return ConnectFailure(f"TLS with {where} failed: {problem}", True)
    if _in_chain(exc, mqtt.WebsocketConnectionError):
        return ConnectFailure(
            f"the WebSocket handshake with {where} failed: is this a WebSocket port, and is "
            f"the path {url.path!r} right? (plain MQTT is mqtt://)",
            True,
        )
    if closed is not None:
        hint = _hint(url)
        if closed.mqtt5:  # only when 3.1.1 was not tried: --mqtt-version 5
            hint = f"{hint}, or" if hint else ":"
            hint += " does it refuse MQTT 5 (try --mqtt-version 3.1.1)"
        question = "?" if hint else ""
        return ConnectFailure(
            f"{where} closed the connection before answering{hint}{question}", False
        )
    text = str(exc)
    lowered = text.lower()
    if "refused" in lowered and "errno" in lowered:
        return ConnectFailure(f"connection refused by {where} (is the broker running?)", False)
    if (
        isinstance(exc, socket.gaierror)
        or "name or service not known" in lowered
        or ("temporary failure in name resolution" in lowered)
    ):
        return ConnectFailure(f"unknown host {url.host!r}", False)
    if "timed out" in lowered or isinstance(exc, TimeoutError):
        return ConnectFailure(f"no answer from {where} (timed out)", False)
    if "unreachable" in lowered:
        return ConnectFailure(f"{where} is unreachable: {text}", False)
    return ConnectFailure(f"lost connection to {where}: {text or type(exc).__name__}", False)


def _in_chain(exc: BaseException, kind: type[BaseException]) -> bool:
    """``exc`` or what it was raised from is a ``kind``: aiomqtt re-raises paho's
    errors as a bare MqttError, the original kept as its context."""
    error: BaseException | None = exc
    while error is not None:
        if isinstance(error, kind):
            return True
        error = error.__cause__ or error.__context__
    return False


def _hint(url: BrokerUrl) -> str:
    """What the port may be instead, when a broker hangs up on CONNECT."""
    if url.scheme == "mqtt":
        return ": is it a TLS port (mqtts://) or a WebSocket port (ws://)"
    if url.scheme == "mqtts":
        return " (after the TLS handshake): is it a WebSocket port (wss://)"
    return ""
