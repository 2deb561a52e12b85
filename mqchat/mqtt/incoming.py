"""What a chat connection hands over and asks for, without the MQTT library: a message
that arrived, and the Will the broker publishes for us. The chat's modules import
these (and :class:`~mqchat.mqtt.session.Session` for their types only), so
``mqchat chat`` loads aiomqtt and paho when it connects, after its first frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Incoming", "Will"]


class Incoming(NamedTuple):
    """A message for the chat; ``mid`` is the packet id :meth:`Session.ack` sends
    the PUBACK of."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int


@dataclass(frozen=True, slots=True)
class Will:
    """What the broker publishes for us if the connection dies without a DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True
