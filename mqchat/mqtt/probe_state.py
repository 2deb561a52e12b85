"""What the checks of ``mqchat probe`` (``mqtt/probe_checks.py``) share: the version
spoken, what the CONNACK said, the random topic prefix, the connections, the problems met
cleaning up; and what the orchestration (``mqtt/probe.py``) needs as well: a check's time
limit and the finding of a check that could not tell."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from mqchat.config.settings import Settings
from mqchat.core.probe import Finding, Value
from mqchat.mqtt.probe_conn import Conn, Connections
from mqchat.mqtt.protocol import Protocol

__all__ = ["CHECK_LIMIT", "ProbeState", "unknown"]

CHECK_LIMIT = 4.0
"""No check runs longer than this, whatever the broker does."""


@dataclass
class ProbeState:
    """One probe of one broker: what its checks share (the version spoken, the
    CONNACK's properties, the topic prefix, problems met cleaning up)."""

    settings: Settings
    protocol: Protocol
    prefix: str
    connack: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    links: Connections = field(init=False)

    def __post_init__(self) -> None:
        self.links = Connections(self.settings, self.protocol, self.topic("none"))

    def conn(
        self, settings: Settings | None = None, **kwargs: Any
    ) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A connection of its own: :meth:`Connections.conn`."""
        return self.links.conn(settings, **kwargs)

    def topic(self, *levels: str) -> str:
        return "/".join((self.prefix, *levels))

    def said(self, name: str, absent: Value) -> Value:
        """A CONNACK property (absent: its default); ``None`` with 3.1.1."""
        if self.protocol is not Protocol.V5:
            return None
        value = self.connack.get(name)
        return absent if value is None else value

    def said_flag(self, name: str) -> bool | None:
        value = self.said(name, 1)
        return None if value is None else bool(value)


def unknown(key: str, label: str, why: str, said: Value = None) -> Finding:
    """A finding that could not be decided (value ``None``), and why."""
    return Finding(key, label, None, why, said)
