"""MQTT 5 properties between paho and mqchat: those a person sets on a publish, and a
received message's as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.core.message import Properties as PropertyMap

__all__ = ["PublishProperties", "property_map"]

_EMPTY_PROPERTY_ATTRS = len(vars(Properties(PacketTypes.PUBLISH)))  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class PublishProperties:
    """MQTT 5 PUBLISH properties a person may set (the inspector's publish form)."""

    content_type: str | None = None
    user_properties: tuple[tuple[str, str], ...] = ()
    message_expiry: int | None = None

    def paho(self) -> Properties:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if self.content_type:
            props.ContentType = self.content_type
        for pair in self.user_properties:
            props.UserProperty = pair  # paho appends each pair
        if self.message_expiry:
            props.MessageExpiryInterval = self.message_expiry
        return props


def property_map(props: Properties | None) -> PropertyMap | None:
    """A message's MQTT 5 properties by paho's names (``ContentType``,
    ``UserProperty``…); ``None`` with 3.1.1 or when it has none."""
    if props is None or len(vars(props)) <= _EMPTY_PROPERTY_ATTRS:
        return None  # the flood case: no properties, nothing to convert
    data: PropertyMap = props.json()  # type: ignore[no-untyped-call]
    return data
