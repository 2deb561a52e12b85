"""Building aiomqtt clients from settings, and turning connection failures into words
a person can act on."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.settings import Settings

__all__ = ["ConnectFailure", "describe_failure", "json_properties", "make_client"]

# CONNACK codes after which retrying cannot help (3.1.1: 1-5; MQTT 5: 0x80+).
_FATAL_CONNACK = {1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    """Why connecting failed, and whether trying again can help."""

    reason: str
    fatal: bool


def make_client(settings: Settings, *, will: aiomqtt.Will | None = None) -> aiomqtt.Client:
    """A client for one connection attempt. Must be called inside the running loop."""
    return aiomqtt.Client(
        settings.broker.host,
        settings.broker.port,
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        identifier=f"mqchat-{settings.user}-{uuid.uuid4().hex[:8]}",
        protocol=aiomqtt.ProtocolVersion.V5,
        will=will,
        keepalive=settings.keepalive,
        timeout=settings.connect_timeout,
    )


def json_properties() -> Properties:
    """MQTT 5 PUBLISH properties of an envelope."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = "application/json"
    return props


def describe_failure(exc: BaseException, settings: Settings) -> ConnectFailure:
    where = settings.broker.label
    rc = getattr(exc, "rc", None)
    code = getattr(rc, "value", rc)
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
    text = str(exc)
    lowered = text.lower()
    if "refused" in lowered and "errno" in lowered:
        return ConnectFailure(f"connection refused by {where} (is the broker running?)", False)
    if (
        isinstance(exc, socket.gaierror)
        or "name or service not known" in lowered
        or ("temporary failure in name resolution" in lowered)
    ):
        return ConnectFailure(f"unknown host {settings.broker.host!r}", False)
    if "timed out" in lowered or isinstance(exc, TimeoutError):
        return ConnectFailure(f"no answer from {where} (timed out)", False)
    if "unreachable" in lowered:
        return ConnectFailure(f"{where} is unreachable: {text}", False)
    return ConnectFailure(f"lost connection to {where}: {text or type(exc).__name__}", False)
