"""FastPaho's batch reader (``_read_batch``): QoS 0 messages whole in one ``recv()``
are decoded in one loop, and whatever mix of packets arrives, split wherever the
socket splits it, every message comes out as the one-by-one path made it, in order.
A halt stops the batch at the message that asked for it."""

from __future__ import annotations

import socket

import paho.mqtt.client as paho
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from mqchat.core.message import Message
from mqchat.mqtt.fast_paho import FastPaho
from mqchat.mqtt.link import message_from_paho
from tests.unit.test_mqtt_cut_read import publish

CAP = 300


def _client(v5: bool, got: list[Message]) -> tuple[FastPaho, socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    client = FastPaho(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5 if v5 else paho.MQTTv311)
    client.max_payload = CAP
    client.clock = lambda: 0.0
    client.deliver = got.append
    client.on_message = lambda _c, _u, msg: got.append(
        message_from_paho(msg, client.clock, client.payload_size(msg), client.max_payload)
    )
    ours.setblocking(False)
    client._sock = ours
    return client, ours, theirs


def _read_all(client: FastPaho, got: list[Message], count: int) -> None:
    for _ in range(10_000):
        if len(got) >= count:
            return
        client.would_block = False
        assert client.loop_read() == paho.MQTT_ERR_SUCCESS
        if client.would_block:
            return


def test_a_flood_in_one_recv_is_read_in_one_call() -> None:
    got: list[Message] = []
    client, ours, theirs = _client(True, got)
    try:
        theirs.sendall(b"".join(publish(b"f/%d" % i, b"x" * 90, v5=True) for i in range(500)))
        client.loop_read()  # one packet paho's way, which fills the read-ahead
        client.loop_read()
        assert client.batched == 499
        assert [m.topic for m in got] == [f"f/{i}" for i in range(500)]
        theirs.sendall(b"".join(publish(b"f/7", b"x", v5=True) for _ in range(4)))
        client.loop_read()  # the first paho's way again, the rest in a batch
        client.loop_read()
        assert got[-1].topic is got[-2].topic is got[-3].topic  # waiting ones share one str
    finally:
        ours.close()
        theirs.close()


def test_a_halt_stops_the_batch_at_that_message_and_reading_goes_on_after() -> None:
    got: list[Message] = []
    client, ours, theirs = _client(False, got)

    def deliver(message: Message) -> None:
        got.append(message)
        if len(got) == 10:
            client.halted = True

    client.deliver = deliver
    try:
        theirs.sendall(b"".join(publish(b"t", b"%d" % i, v5=False) for i in range(100)))
        while not client.halted:  # as Link reads
            client.loop_read()
        assert [m.payload for m in got] == [b"%d" % i for i in range(10)]
        client.halted = False
        _read_all(client, got, 100)
        assert [m.payload for m in got] == [b"%d" % i for i in range(100)]
    finally:
        ours.close()
        theirs.close()


_topic = st.sampled_from([b"a", b"a/b/c", b"\xff\xfe/x", b"t" * 200, b"room/\xc3\xa9"])
_packet = st.tuples(
    _topic,
    st.integers(0, 2 * CAP),  # payload length: under and over the bound, 2-byte lengths
    st.sampled_from([0, 0, 0, 1]),  # QoS
    st.booleans(),  # retain
    st.booleans(),  # a property (MQTT 5 only)
)


def _expected(topic: bytes, length: int, qos: int, retain: bool, prop: bool, v5: bool) -> tuple:
    payload = bytes(i % 251 for i in range(length))
    return (
        topic.decode("utf-8", "replace"),
        payload[:CAP],
        qos,
        retain,
        {"ContentType": "x"} if prop and v5 else None,
        length if length > CAP else None,
    )


@settings(max_examples=150, deadline=None)
@given(
    v5=st.booleans(),
    packets=st.lists(_packet, min_size=1, max_size=40),
    splits=st.lists(st.integers(1, 400), min_size=1, max_size=30),
)
def test_any_mix_split_anywhere_reads_as_one_by_one(
    v5: bool, packets: list[tuple[bytes, int, int, bool, bool]], splits: list[int]
) -> None:
    stream = b""
    for topic, length, qos, retain, prop in packets:
        props = b"\x03\x00\x01x" if prop and v5 else b""
        packet = bytearray(
            publish(topic, bytes(i % 251 for i in range(length)), v5=v5, qos=qos, props=props)
        )
        packet[0] |= 0x01 if retain else 0
        stream += bytes(packet)
    got: list[Message] = []
    client, ours, theirs = _client(v5, got)
    try:
        at = 0
        for size in splits:  # the socket hands it over in these pieces, read in between
            theirs.sendall(stream[at : at + size])
            at += size
            _read_all(client, got, len(packets))
        theirs.sendall(stream[at:])
        _read_all(client, got, len(packets))
    finally:
        ours.close()
        theirs.close()
    assert [(m.topic, m.payload, m.qos, m.retain, m.properties, m.size) for m in got] == [
        _expected(*p, v5=v5) for p in packets
    ]
    assert all(type(m.payload) is bytes for m in got)
