"""Small pieces between paho-mqtt and the inspector's feed: pairing packet ids with
the broker's answers across threads, and converting messages and properties."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.inspector.capture import Properties as PropertyMap
from mqchat.inspector_backend import PublishRequest

__all__ = ["Answers", "FastClient", "property_map", "publish_properties", "topic_of"]

_EARLY_ANSWERS = 1024
_EMPTY_PROPERTY_ATTRS = len(vars(Properties(PacketTypes.PUBLISH)))  # type: ignore[no-untyped-call]

T = TypeVar("T")


class Answers(Generic[T]):
    """Pairs a packet id with the broker's answer to it, whichever comes first: paho
    may read the answer on its thread before the caller, on another, holds the id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, Callable[[T | None], None]] = {}
        self._early: dict[int, T] = {}

    def expect(self, mid: int, on_answer: Callable[[T | None], None]) -> None:
        with self._lock:
            if mid not in self._early:
                self._waiting[mid] = on_answer
                return
            answer = self._early.pop(mid)
        on_answer(answer)

    def answer(self, mid: int, value: T) -> None:
        with self._lock:
            on_answer = self._waiting.pop(mid, None)
            if on_answer is None:
                if len(self._early) >= _EARLY_ANSWERS:  # answers nobody waits for any more
                    self._early.pop(next(iter(self._early)))
                self._early[mid] = value
                return
        on_answer(value)

    def forget(self, mid: int) -> None:
        with self._lock:
            self._waiting.pop(mid, None)

    def abandon_all(self) -> None:
        """The connection is gone: every waiter hears ``None``."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
            self._early.clear()
        for on_answer in waiting.values():
            on_answer(None)


def property_map(props: Properties | None) -> PropertyMap | None:
    if props is None or len(vars(props)) <= _EMPTY_PROPERTY_ATTRS:
        return None  # the flood case: no properties, nothing to convert
    data: PropertyMap = props.json()  # type: ignore[no-untyped-call]
    return data


def topic_of(msg: mqtt.MQTTMessage) -> str:
    try:
        return msg.topic
    except UnicodeDecodeError:  # a broker should refuse these; never crash on one
        raw: bytes = getattr(msg, "_topic", b"")
        return raw.decode("utf-8", "replace")


def publish_properties(request: PublishRequest) -> Properties | None:
    """The MQTT 5 PUBLISH properties a request asks for, ``None`` without any."""
    if not request.has_properties:
        return None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if request.content_type:
        props.ContentType = request.content_type
    for pair in request.user_properties:
        props.UserProperty = pair  # paho appends each pair
    if request.message_expiry:
        props.MessageExpiryInterval = request.message_expiry
    return props


class FastClient(mqtt.Client):
    """paho with a short path for the flood case, a QoS 0 PUBLISH without MQTT 5
    properties: paho's general decoder spends about half of each message building an
    empty Properties object. Anything else goes paho's way. Overrides private parts
    of paho-mqtt 2.x (``_handle_publish``, ``_in_packet``), as
    :class:`mqchat.service.direct._ReadAheadClient` does; tests/test_inspector_feed.py
    checks the result against paho's own decoding."""

    def _handle_publish(self) -> MQTTErrorCode:
        packet = self._in_packet
        header, data = packet["command"], packet["packet"]
        if header & 0x06 or len(data) < 3:  # QoS 1 or 2
            return super()._handle_publish()
        end = 2 + ((data[0] << 8) | data[1])
        if self._protocol == mqtt.MQTTv5:
            if len(data) <= end or data[end] != 0 or end == 2:  # properties, or an alias
                return super()._handle_publish()
            start = end + 1
        else:
            if end == 2 or len(data) < end:
                return super()._handle_publish()
            start = end
        message = mqtt.MQTTMessage(topic=bytes(data[2:end]))
        message.retain = bool(header & 0x01)
        message.dup = bool(header & 0x08)
        message.payload = bytes(data[start:])
        message.properties = None
        message.timestamp = time.monotonic()
        self._handle_on_message(message)
        return MQTTErrorCode.MQTT_ERR_SUCCESS
