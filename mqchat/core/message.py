"""One MQTT message as mqchat hands it from the connection to whoever reads it: the
chat, the inspector, ``mqchat sub``. Plain data, no library types."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Message", "Properties", "PropertyValue"]

PropertyValue = str | int | list[str] | list[int] | list[tuple[str, str]]
Properties = dict[str, PropertyValue]
"""MQTT 5 properties by name (``ContentType``, ``UserProperty`` as (key, value)
pairs, ``CorrelationData`` as hex…), as the connection decodes them."""


class Message(NamedTuple):
    """A message as it came off the wire. ``ts`` is the receive time (epoch seconds);
    ``properties`` the MQTT 5 properties by name, ``None`` without any; ``size`` the
    payload's length as sent when ``payload`` is only its beginning (a reader that
    bounds payloads cut it), ``None`` when ``payload`` is whole."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: Properties | None
    ts: float
    size: int | None = None
