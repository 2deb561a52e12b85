"""FastPaho's bounded reading over a real socket pair, no broker: a PUBLISH longer
than ``max_payload`` arrives with its payload's beginning and its real size, whatever
its QoS, protocol, properties or topic length, and the packets after it still read."""

from __future__ import annotations

import socket
import threading

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqchat.core.message import Message
from mqchat.mqtt.fast_paho import FastPaho
from mqchat.mqtt.link import message_from_paho

CAP = 1000


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish(topic: bytes, payload: bytes, *, v5: bool, qos: int = 0, props: bytes = b"") -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += (7).to_bytes(2, "big")
    if v5:
        body += varint(len(props)) + props
    body += payload
    return bytes([0x30 | qos << 1]) + varint(len(body)) + body


def receive(data: bytes, count: int, *, v5: bool) -> list[Message]:
    """What a FastPaho bounded to CAP makes of ``data`` written to its socket."""
    ours, theirs = socket.socketpair()
    protocol = paho.MQTTv5 if v5 else paho.MQTTv311
    client = FastPaho(CallbackAPIVersion.VERSION2, protocol=protocol)
    client.max_payload = CAP
    got: list[Message] = []
    client.deliver = got.append
    client.on_message = lambda _c, _u, msg: got.append(
        message_from_paho(msg, lambda: 0.0, client.payload_size(msg), client.max_payload)
    )
    ours.setblocking(False)
    client._sock = ours
    writer = threading.Thread(target=theirs.sendall, args=(data,))
    writer.start()
    try:
        for _ in range(100_000):
            if len(got) >= count:
                break
            client.would_block = False
            assert client.loop_read() == paho.MQTT_ERR_SUCCESS
    finally:
        writer.join()
        ours.close()
        theirs.close()
    return got


PAYLOAD = bytes(range(256)) * 4_000  # 1 MB


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
@pytest.mark.parametrize("qos", [0, 1])
@pytest.mark.parametrize("length", [CAP, CAP + 1, CAP + 70_000, len(PAYLOAD)])
@pytest.mark.parametrize("topic", [b"a/b", b"t" * 60_000], ids=["short", "60k-topic"])
def test_a_long_payload_is_cut_and_the_next_packet_still_reads(
    v5: bool, qos: int, length: int, topic: bytes
) -> None:
    data = publish(topic, PAYLOAD[:length], v5=v5, qos=qos) + publish(b"next", b"ok", v5=v5)
    big, after = receive(data, 2, v5=v5)
    assert big.topic == topic.decode() and big.qos == qos
    assert big.payload == PAYLOAD[: min(length, CAP)]
    assert big.size == (length if length > CAP else None)
    assert (after.topic, after.payload, after.size) == ("next", b"ok", None)


def test_properties_survive_the_cut() -> None:
    props = b"\x03\x00\x0atext/plain"  # ContentType
    [big] = receive(publish(b"a", PAYLOAD, v5=True, props=props), 1, v5=True)
    assert big.properties == {"ContentType": "text/plain"}
    assert (len(big.payload), big.size) == (CAP, len(PAYLOAD))


def test_without_a_bound_nothing_is_cut() -> None:
    ours, theirs = socket.socketpair()
    client = FastPaho(CallbackAPIVersion.VERSION2)
    got: list[Message] = []
    client.deliver = got.append
    ours.setblocking(False)
    client._sock = ours
    writer = threading.Thread(target=theirs.sendall, args=(publish(b"a", PAYLOAD, v5=False),))
    writer.start()
    while not got:
        client.would_block = False
        client.loop_read()
    writer.join()
    ours.close()
    theirs.close()
    assert got[0].payload == PAYLOAD and got[0].size is None


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
def test_a_cut_qos2_message_keeps_its_size_until_pubrel(v5: bool) -> None:
    pubrel = bytes([0x62, 2]) + (7).to_bytes(2, "big")
    [big] = receive(publish(b"a/b", PAYLOAD, v5=v5, qos=2) + pubrel, 1, v5=v5)
    assert (big.qos, len(big.payload), big.size) == (2, CAP, len(PAYLOAD))
