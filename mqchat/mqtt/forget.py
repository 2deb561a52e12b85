"""Forgetting a persistent session at the broker (a device the user forgot)."""

from __future__ import annotations

from mqchat.config.settings import Settings
from mqchat.mqtt.link import open_link
from mqchat.mqtt.protocol import ProtocolChoice

__all__ = ["discard_session"]


def discard_session(
    settings: Settings, client_id: str, protocol: ProtocolChoice | None = None
) -> None:
    """Make the broker drop the persistent session of ``client_id`` (a forgotten
    device's): connect once under that id with a clean start and a session expiry of
    0 (MQTT 5; with 3.1.1 a clean session), then disconnect, so nothing more is
    queued for it. A client connected under that id now is taken over (the broker
    closes its connection). Raises :class:`LinkError`."""
    open_link(settings, protocol, role="forget", client_id=client_id).close()
