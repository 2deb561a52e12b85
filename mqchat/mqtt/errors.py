"""mqchat's MQTT errors, and :func:`describe_failure`, the one map from a failure to a
line a person can act on (which broker, what went wrong, what to try).

Nothing outside ``mqchat.mqtt`` sees aiomqtt's or paho's exceptions: the session and
the link turn them into these, keeping the original as the cause."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import NamedTuple

from mqchat.config.broker_url import BrokerUrl
from mqchat.config.settings import Settings
from mqchat.mqtt.tls import NOT_TLS, TlsSetupError, tls_problem

__all__ = [
    "ClosedBeforeConnack",
    "ConnectFailure",
    "LinkError",
    "MqttError",
    "NoAnswer",
    "PublishRefused",
    "Reason",
    "describe_failure",
]

# CONNACK codes after which retrying cannot help (3.1.1: 1-5; MQTT 5: 0x80+).
_FATAL_CONNACK = {1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}
_SESSION_TAKEN_OVER = 0x8E


class MqttError(Exception):
    """Connecting failed, or the connection was lost. ``code``: the broker's reason
    code (a refusing CONNACK, or an MQTT 5 DISCONNECT) when it gave one."""

    def __init__(self, message: str = "", *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ClosedBeforeConnack(MqttError):
    """The broker closed the connection after CONNECT, without a CONNACK.
    ``socket_error``: why reading failed, when the socket said (e.g. a TLS alert);
    ``mqtt5``: the CONNECT was MQTT 5 (which some brokers hang up on)."""

    def __init__(self, socket_error: str | None = None, *, mqtt5: bool = False) -> None:
        text = "the broker closed the connection before answering"
        super().__init__(f"{text}: {socket_error}" if socket_error else text)
        self.socket_error = socket_error
        self.mqtt5 = mqtt5


class LinkError(MqttError):
    """A failure already put into words by :func:`describe_failure` (``reason``);
    ``fatal``: trying again cannot help."""

    def __init__(self, reason: str, *, fatal: bool = False, code: int | None = None) -> None:
        super().__init__(reason, code=code)
        self.reason = reason
        self.fatal = fatal


class NoAnswer(LinkError):
    """The broker did not answer a request in time; the connection may still be up."""


class PublishRefused(Exception):
    """The broker took the message and dropped it, saying why (``reason``, e.g. "Not
    authorized"). Not an :class:`MqttError`: the connection is fine, and sending the
    same message again would be refused again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Reason(NamedTuple):
    """A broker's answer code (SUBACK, PUBACK, CONNACK…) and its name. For a SUBACK,
    ``value`` is the QoS granted unless the filter was refused."""

    value: int
    text: str

    @property
    def is_failure(self) -> bool:
        return self.value >= 0x80

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    """Why connecting failed, and whether trying again can help."""

    reason: str
    fatal: bool


def describe_failure(exc: BaseException, settings: Settings) -> ConnectFailure:
    """Why connecting (or staying connected) failed, in one line that names the
    broker and the cause, and whether trying again can help."""
    url = settings.broker
    where = url.label
    if isinstance(exc, LinkError):
        return ConnectFailure(exc.reason, exc.fatal)
    code = exc.code if isinstance(exc, MqttError) else None
    if code == _SESSION_TAKEN_OVER:
        return ConnectFailure(
            f"another mqchat signed in as {settings.user} from this device and took over "
            "the session; this one stopped so the two do not keep pushing each other out",
            True,
        )
    if code is not None and code in _FATAL_CONNACK:
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
            # reset while connecting: the TCP connection was up, so the handshake
            # met a port that does not speak TLS
            problem = NOT_TLS
        if problem is not None:
            return ConnectFailure(f"TLS with {where} failed: {problem}", True)
    from paho.mqtt.client import WebsocketConnectionError  # loaded with the connection

    if _in_chain(exc, WebsocketConnectionError):
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
    """``exc`` or what it was raised from is a ``kind``: the client libraries re-raise
    the socket's errors as their own, the original kept as the cause or context."""
    error: BaseException | None = exc
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _hint(url: BrokerUrl) -> str:
    """What the port may be instead, when a broker hangs up on CONNECT."""
    if url.scheme == "mqtt":
        return ": is it a TLS port (mqtts://) or a WebSocket port (ws://)"
    if url.scheme == "mqtts":
        return " (after the TLS handshake): is it a WebSocket port (wss://)"
    return ""
