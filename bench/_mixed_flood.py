"""A mixed flood for the flight recorder's bench and tests: JSON, MessagePack, CBOR and
random binary payloads over topics of their own, each topic with one QoS (0 or 1),
one in ten topics retained, MQTT 5 properties on the JSON and CBOR ones. Each payload
carries its sequence number per topic, so order can be checked by what arrives.
Published with paho (MQTT 5) straight, not through mqchat: the thing under test is
the recorder, not the publisher."""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import cbor2
import msgpack
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

__all__ = ["Flood", "flood", "publish_flood"]

KINDS = ("json", "msgpack", "cbor", "binary")


@dataclass(frozen=True, slots=True)
class Flood:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: dict[str, object] | None


def _topic_qos(index: int) -> int:
    """0 or 1. Not 2 as well: mosquitto 2.0.11 was seen to reorder a topic's QoS 1/2
    messages to every subscriber (stock paho too) when one client publishes QoS 0, 1
    and 2 together, which would hide what these runs measure."""
    return index % 2


def flood(count: int, prefix: str, *, topics: int = 40, seed: int = 1) -> Iterator[Flood]:
    """``count`` messages spread at random over ``topics`` topics under ``prefix``."""
    rng = random.Random(seed)
    seqs = [0] * topics
    for _ in range(count):
        t = rng.randrange(topics)
        kind = KINDS[t % len(KINDS)]
        seq = seqs[t]
        seqs[t] += 1
        topic = f"{prefix}/{kind}/dev{t:03d}"
        props: dict[str, object] | None = None
        value = {"seq": seq, "t": round(rng.uniform(-20, 40), 2), "ok": rng.random() > 0.1}
        if kind == "json":
            payload = json.dumps(value).encode()
            props = {"ContentType": "application/json", "UserProperty": [("seq", str(seq))]}
        elif kind == "msgpack":
            payload = msgpack.packb(value)
        elif kind == "cbor":
            payload = cbor2.dumps(value)
            props = {"CorrelationData": struct.pack(">I", seq)}
        else:
            payload = struct.pack(">I", seq) + rng.randbytes(rng.randrange(0, 200))
        yield Flood(topic, payload, _topic_qos(t), t % 10 == 0, props)


def _paho_props(props: dict[str, object] | None) -> Properties | None:
    if not props:
        return None
    out = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    for name, value in props.items():
        if name == "UserProperty":
            for pair in value:  # type: ignore[attr-defined]
                out.UserProperty = pair
        else:
            setattr(out, name, value)
    return out


def publish_flood(
    port: int, messages: list[Flood], *, timeout: float = 120.0, over: float = 0.0
) -> float:
    """Publish ``messages`` on 127.0.0.1:``port`` and wait until the broker has all of
    them (QoS 0 written, QoS 1/2 acknowledged). Returns the seconds it took. With
    ``over``, they are spread evenly over that many seconds instead of sent at once.

    One thread drives paho: with its network thread running, a publish made just as
    an acknowledgement frees a slot overtakes the QoS 1/2 messages paho holds back
    beyond its in-flight window, which reorders a topic's messages."""
    import time

    published = [0]

    def on_publish(*_args: object) -> None:
        published[0] += 1

    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(20)  # mosquitto's receive maximum
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + timeout + over
    while not client.is_connected():
        client.loop(0.1)
        if time.monotonic() > deadline:
            raise TimeoutError("no CONNACK")
    started = time.perf_counter()
    try:
        step = over / len(messages) if messages and over > 0 else 0.0
        for i, m in enumerate(messages):
            while step and (wait := started + i * step - time.perf_counter()) > 0:
                client.loop(min(wait, 0.05))  # paced: keep the connection served meanwhile
            client.publish(m.topic, m.payload, m.qos, m.retain, _paho_props(m.properties))
            client.loop(0)
        while published[0] < len(messages):
            client.loop(0.1)
            if time.monotonic() > deadline:
                raise TimeoutError(f"published {published[0]} of {len(messages)} in {timeout}s")
        return time.perf_counter() - started
    finally:
        client.disconnect()
        client.loop(0.1)
