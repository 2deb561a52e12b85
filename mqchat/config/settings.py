"""Typed, frozen settings of one mqchat session, and the parsers of the values a
person types for them. :mod:`mqchat.config.loader` builds them, once, from the
profile, the environment and the flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mqchat.config.broker_url import BrokerUrl
from mqchat.config.paths import database_path, default_data_dir
from mqchat.config.tls_options import TlsOptions
from mqchat.core.envelope import MAX_ENVELOPE_BYTES
from mqchat.core.topics import DEFAULT_NAMESPACE

__all__ = [
    "DEFAULT_KEEPALIVE",
    "DEFAULT_SESSION_EXPIRY",
    "MqttVersion",
    "Settings",
    "parse_mqtt_version",
    "parse_session_expiry",
]

DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600
DEFAULT_KEEPALIVE = 15

MqttVersion = Literal["5", "3.1.1"]
_VERSIONS: dict[str, MqttVersion] = {
    "5": "5",
    "mqttv5": "5",
    "3.1.1": "3.1.1",
    "311": "3.1.1",
    "mqttv311": "3.1.1",
}


def parse_mqtt_version(text: str) -> MqttVersion:
    """``5`` or ``3.1.1`` from what a person types (``5``, ``3.1.1``, ``311``, or
    mosquitto's ``mqttv5``/``mqttv311``). Raises :class:`ValueError`."""
    version = _VERSIONS.get(text.strip().lower())
    if version is None:
        raise ValueError(f"unknown MQTT version {text!r}; use 5 or 3.1.1")
    return version


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_session_expiry(text: str) -> int:
    """``3600``, ``90m``, ``12h`` or ``7d`` as whole seconds (1 s to 2^32-1 s, the
    MQTT 5 limit). Raises :class:`ValueError` with the reason."""
    raw = text.strip().lower()
    unit = _UNITS.get(raw[-1:], 0)
    number = raw[:-1] if unit else raw
    if not number.isdigit():
        raise ValueError(f"not a duration: {text!r}; use seconds or e.g. 90m, 12h, 7d")
    seconds = int(number) * (unit or 1)
    if not 0 < seconds < 2**32:
        raise ValueError(f"the session expiry must be 1 s to 136 years, not {text!r}")
    return seconds


@dataclass(frozen=True)
class Settings:
    broker: BrokerUrl
    """Where to connect."""
    user: str
    """Our user name: a topic level, validated."""
    display_name: str | None = None
    """The name shown to others in presence; defaults to the user name."""
    password: str | None = field(default=None, repr=False)
    """MQTT password: from the login form, the environment or the system keyring
    (resolved by the loader); a password in the broker URL is the fallback."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Folder of the per-broker, per-user databases."""
    namespace: str = DEFAULT_NAMESPACE
    """First topic levels of the scheme (``{ns}/u/{user}/…``)."""
    keepalive: int = DEFAULT_KEEPALIVE
    """Seconds between pings; the Will fires within ~1.5× this after a silent loss."""
    max_payload: int = MAX_ENVELOPE_BYTES
    """Inbound envelopes larger than this are rejected; outbound bodies are refused."""
    connect_timeout: float = 10.0
    """Seconds to wait for CONNACK before calling the broker unreachable."""
    session_expiry: int = DEFAULT_SESSION_EXPIRY
    """Seconds the broker keeps our session (subscriptions and queued messages) after
    we disconnect (MQTT 5); messages sent to us meanwhile arrive when we return."""
    tls: TlsOptions = field(default_factory=TlsOptions)
    """CA, client certificate and verification for ``mqtts://`` and ``wss://``."""
    mqtt_version: MqttVersion | None = None
    """The MQTT version to speak; ``None``: 5, and 3.1.1 if the broker refuses 5."""
    encryption: bool = True
    """Seal what we send to users who publish keys, and publish ours (protocol v3).
    No flag turns it off: ``False`` is for measuring what it costs
    (bench/chat_latency.py) and for speaking protocol v2 in tests."""

    @property
    def database(self) -> Path:
        return database_path(self.data_dir, self.broker, self.user)

    @property
    def broker_label(self) -> str:
        """``host:port`` and how the connection travels: ``(TLS)``, ``(WebSocket)``,
        and ``(TLS, NOT VERIFIED)`` with ``--insecure``, so a screen that shows where
        we are connected also shows that nobody checked who answers. No credentials."""
        url = self.broker
        ways = []
        if url.tls:
            ways.append("TLS, NOT VERIFIED" if self.tls.insecure else "TLS")
        if url.websocket:
            ways.append("WebSocket")
        return f"{url.label} ({', '.join(ways)})" if ways else url.label

    @property
    def name(self) -> str:
        return self.display_name or self.user

    @property
    def mqtt_password(self) -> str | None:
        """The password sent to the broker: :attr:`password`, else the URL's."""
        return self.password or self.broker.password

    @property
    def mqtt_username(self) -> str:
        """The broker login: the URL's user info when given, else the chat user name."""
        return self.broker.username or self.user
