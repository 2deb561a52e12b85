"""Typed settings of one mqchat session, built by the CLI from flags and ``MQCHAT_*``
environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mqchat.broker_url import DEFAULT_BROKER, BrokerUrl, parse_broker_url
from mqchat.envelope import MAX_ENVELOPE_BYTES
from mqchat.paths import database_path, default_data_dir
from mqchat.topics import DEFAULT_NAMESPACE

__all__ = ["DEFAULT_SESSION_EXPIRY", "Settings", "broker_from_env"]

DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600


def broker_from_env(flag: str | None) -> BrokerUrl:
    """The broker from ``--broker``, else ``MQCHAT_BROKER``, else the default."""
    return parse_broker_url(flag or os.environ.get("MQCHAT_BROKER") or DEFAULT_BROKER)


@dataclass(frozen=True)
class Settings:
    broker: BrokerUrl
    """Where to connect."""
    user: str
    """Our user name: a topic level, validated."""
    display_name: str | None = None
    """The name shown to others in presence; defaults to the user name."""
    password: str | None = field(default=None, repr=False)
    """MQTT password: from the login form, ``MQCHAT_PASSWORD`` or the URL."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Folder of the per-broker, per-user databases."""
    namespace: str = DEFAULT_NAMESPACE
    """First topic levels of the scheme (``{ns}/u/{user}/…``)."""
    keepalive: int = 15
    """Seconds between pings; the Will fires within ~1.5× this after a silent loss."""
    max_payload: int = MAX_ENVELOPE_BYTES
    """Inbound envelopes larger than this are rejected; outbound bodies are refused."""
    connect_timeout: float = 10.0
    """Seconds to wait for CONNACK before calling the broker unreachable."""
    session_expiry: int = DEFAULT_SESSION_EXPIRY
    """Seconds the broker keeps our session (subscriptions and queued messages) after
    we disconnect (MQTT 5); messages sent to us meanwhile arrive when we return."""

    @property
    def database(self) -> Path:
        return database_path(self.data_dir, self.broker, self.user)

    @property
    def name(self) -> str:
        return self.display_name or self.user

    @property
    def mqtt_password(self) -> str | None:
        return self.password or os.environ.get("MQCHAT_PASSWORD") or self.broker.password

    @property
    def mqtt_username(self) -> str:
        """The broker login: the URL's user info when given, else the chat user name."""
        return self.broker.username or self.user
