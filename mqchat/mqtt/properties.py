"""MQTT 5 properties between paho and mqchat: those a person sets on a publish, and a
received message's as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from paho.mqtt.exception import MQTTException
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.core.message import Properties as PropertyMap

__all__ = ["MappedProperties", "PublishProperties", "property_map"]

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


_NOT_PUBLISHED = frozenset({"SubscriptionIdentifier", "TopicAlias"})
"""Properties of a received message that the broker set for this subscriber: a
publisher may not send them again."""


@dataclass(frozen=True, slots=True)
class MappedProperties:
    """A received message's properties (:func:`property_map`'s) to publish again, as
    ``mqchat replay`` does: every one a publisher may set, ``CorrelationData`` from its
    hex; one paho refuses is left out rather than stopping the replay."""

    properties: PropertyMap

    def paho(self) -> Properties:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        for name, value in self.properties.items():
            if name in _NOT_PUBLISHED:
                continue
            try:
                if name == "UserProperty" and isinstance(value, list):
                    for key, text in value:  # type: ignore[misc,str-unpack]
                        props.UserProperty = (key, text)
                elif name == "CorrelationData" and isinstance(value, str):
                    props.CorrelationData = bytes.fromhex(value)
                else:
                    setattr(props, name, value)
            except (AttributeError, TypeError, ValueError, MQTTException):
                continue
        return props


def property_map(props: Properties | None) -> PropertyMap | None:
    """A message's MQTT 5 properties by paho's names (``ContentType``,
    ``UserProperty``…); ``None`` with 3.1.1 or when it has none."""
    if props is None or len(vars(props)) <= _EMPTY_PROPERTY_ATTRS:
        return None  # the flood case: no properties, nothing to convert
    data: PropertyMap = props.json()  # type: ignore[no-untyped-call]
    return data
