"""Small pieces between paho-mqtt and the inspector's feed: pairing packet ids with
the broker's answers across threads, and converting messages and properties."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.capture import Properties as PropertyMap

__all__ = ["Answers", "property_map", "publish_properties", "topic_of"]

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
