"""Which MQTT version a connection speaks, and the one rule for falling back: MQTT 5
first, then once 3.1.1 when the broker refuses 5, unless the user chose a version."""

from __future__ import annotations

from enum import StrEnum

from mqchat.config.settings import Settings
from mqchat.mqtt.errors import ClosedBeforeConnack, MqttError
from mqchat.mqtt.tls import tls_problem

__all__ = ["FALLBACK_NOTE", "Protocol", "ProtocolChoice", "forced_protocol", "refuses_protocol"]

FALLBACK_NOTE = "the broker refused MQTT 5; connected with MQTT 3.1.1"

_UNSUPPORTED_PROTOCOL = {1, 0x84}  # CONNACK: 3.1.1 "unacceptable version", MQTT 5 0x84


class Protocol(StrEnum):
    """The MQTT version of a connection."""

    V5 = "5"
    V311 = "3.1.1"


def forced_protocol(settings: Settings) -> Protocol | None:
    """The version the user asked for (``--mqtt-version``), or ``None``: MQTT 5, and
    3.1.1 if the broker refuses 5."""
    return Protocol(settings.mqtt_version) if settings.mqtt_version else None


def refuses_protocol(exc: BaseException) -> bool:
    """The broker may not speak MQTT 5: it answered CONNECT with "unsupported protocol
    version" (as a 3.1.1-only broker does), or closed the connection without a word
    (as some do) and not because of TLS. Worth one more try with MQTT 3.1.1."""
    if isinstance(exc, ClosedBeforeConnack):
        return tls_problem(exc, "", exc.socket_error) is None
    return isinstance(exc, MqttError) and exc.code in _UNSUPPORTED_PROTOCOL


class ProtocolChoice:
    """The version to connect with, for every attempt of one connection's life: the
    user's (``--mqtt-version``), else MQTT 5 until the broker refuses it, then 3.1.1
    for good. Chat, inspector, tools and demo all decide through this."""

    def __init__(self, forced: Protocol | None = None) -> None:
        self.forced = forced
        self.current = forced or Protocol.V5

    @classmethod
    def of(cls, settings: Settings, forced: Protocol | None = None) -> ProtocolChoice:
        """``forced``, else the version the settings ask for, else MQTT 5 with the
        fallback."""
        return cls(forced or forced_protocol(settings))

    @property
    def fell_back(self) -> bool:
        """Speaking 3.1.1 because the broker refused 5 (not because it was asked)."""
        return self.current is Protocol.V311 and self.forced is None

    def fall_back(self, exc: BaseException) -> bool:
        """Whether ``exc`` (a failed attempt) means: try again now, with 3.1.1. If
        so, :attr:`current` becomes 3.1.1."""
        if self.forced is not None or self.current is not Protocol.V5:
            return False
        if not refuses_protocol(exc):
            return False
        self.current = Protocol.V311
        return True
