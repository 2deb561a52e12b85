"""Every private part of aiomqtt and paho that mqchat touches (mqchat/mqtt/shims.py),
one test each, without a broker: an upgrade that moves one fails here, naming the
versions. Their behaviour on the wire is tested against mosquitto too
(tests/broker/test_manual_ack.py, test_deploy_broker.py, test_tls_connect.py,
test_ws_connect.py)."""

from __future__ import annotations

import asyncio
import socket

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt import __version__ as paho_version
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.core.message import Message
from mqchat.mqtt import shims
from mqchat.mqtt.connack import watch_connack
from mqchat.mqtt.link import message_from_paho

VERSIONS = f"aiomqtt {aiomqtt.__version__}, paho-mqtt {paho_version}"


def loud(what: str) -> str:
    return f"{VERSIONS}: {what} moved; update mqchat/mqtt/shims.py"


def test_a_missing_private_part_names_the_versions() -> None:
    with pytest.raises(shims.ShimBroken, match=r"aiomqtt .*, paho-mqtt .*: object\._gone is gone"):
        shims._private(object(), "_gone")
    assert shims.versions() == VERSIONS


# --- aiomqtt -------------------------------------------------------------------------


async def test_aiomqtt_keeps_a_paho_client_inside() -> None:
    client = aiomqtt.Client("127.0.0.1")
    assert isinstance(shims.paho_of(client), paho.Client), loud("aiomqtt Client._client")


async def test_manual_ack_is_switched_on_in_paho() -> None:
    client = aiomqtt.Client("127.0.0.1")
    shims.enable_manual_ack(client)
    assert shims.paho_of(client)._manual_ack is True, loud("paho manual_ack_set")
    shims.acknowledge(client, 7, 0)  # QoS 0: nothing to send, nothing raised


async def test_a_hang_up_before_connack_fails_the_connect_future_at_once() -> None:
    client = aiomqtt.Client("127.0.0.1")
    shims.fail_fast_before_connack(client)
    waiting = client._connected
    assert isinstance(waiting, asyncio.Future), loud("aiomqtt Client._connected")
    inner = shims.paho_of(client)
    inner.on_log(inner, None, paho.MQTT_LOG_ERR, "failed to receive on socket: [SSL: X] boom")
    inner.on_disconnect(inner, None, paho.DisconnectFlags(False), ReasonCode(2, identifier=0))
    assert waiting.done(), loud("aiomqtt's on_disconnect wiring")
    error = waiting.exception()
    assert isinstance(error, shims.ClosedEarly)
    assert error.socket_error == "[SSL: X] boom"


async def test_refusing_pubacks_are_kept_by_packet_id() -> None:
    client = aiomqtt.Client("127.0.0.1")
    refused = shims.watch_refusals(client)
    inner = shims.paho_of(client)
    no = ReasonCode(PacketTypes.PUBACK, identifier=0x87)
    ok = ReasonCode(PacketTypes.PUBACK, identifier=0)
    inner.on_publish(inner, None, 5, no, Properties(PacketTypes.PUBACK))
    inner.on_publish(inner, None, 6, ok, Properties(PacketTypes.PUBACK))
    assert refused == {5: no}, loud("aiomqtt's on_publish wiring")


async def test_the_connack_flag_and_packet_size_are_noted() -> None:
    client = aiomqtt.Client("127.0.0.1")
    seen = watch_connack(client)
    assert seen.session_present is None and seen.max_packet_size is None
    inner = shims.paho_of(client)
    props = Properties(PacketTypes.CONNACK)
    props.MaximumPacketSize = 2000
    accepted = ReasonCode(PacketTypes.CONNACK, identifier=0)
    inner.on_connect(inner, None, paho.ConnectFlags(True), accepted, props)
    assert (seen.session_present, seen.max_packet_size) == (True, 2000), loud("on_connect")
    assert client._connected.done(), loud("aiomqtt's on_connect wiring")


async def test_an_mqtt5_connacks_properties_are_noted() -> None:
    client = aiomqtt.Client("127.0.0.1", protocol=aiomqtt.ProtocolVersion.V5)
    seen = watch_connack(client)
    inner = shims.paho_of(client)
    props = Properties(PacketTypes.CONNACK)
    props.MaximumQoS = 1
    props.RetainAvailable = 0
    accepted = ReasonCode(PacketTypes.CONNACK, identifier=0)
    inner.on_connect(inner, None, paho.ConnectFlags(False), accepted, props)
    assert seen.properties == {"MaximumQoS": 1, "RetainAvailable": 0}, loud("paho protocol")


async def test_dropping_an_unconnected_client_does_nothing() -> None:
    client = aiomqtt.Client("127.0.0.1")
    shims.drop_connection(client)  # no socket yet: nothing to shut, nothing raised
    assert shims.paho_of(client).socket() is None, loud("paho Client.socket()")


async def test_messages_aiomqtt_queued_are_taken_at_once_in_order() -> None:
    client = aiomqtt.Client("127.0.0.1")
    queue = client._queue
    assert isinstance(queue, asyncio.Queue), loud("aiomqtt Client._queue")
    messages = [aiomqtt.Message(f"t/{i}", b"x", 1, False, i, None) for i in range(3)]
    for message in messages:
        queue.put_nowait(message)
    assert shims.take_queued(client) == messages
    assert shims.take_queued(client) == [] and queue.empty()


async def test_every_waiting_packet_is_read_in_one_go() -> None:
    client = aiomqtt.Client("127.0.0.1")
    inner = shims.paho_of(client)
    read = iter([paho.MQTT_ERR_SUCCESS] * 5 + [paho.MQTT_ERR_AGAIN])
    inner._packet_read = lambda: next(read)  # type: ignore[method-assign]
    shims.read_all_waiting(client)
    assert inner.loop_read() == paho.MQTT_ERR_NO_CONN  # no socket yet
    inner._sock = object()  # type: ignore[assignment]
    assert inner.loop_read() == paho.MQTT_ERR_SUCCESS
    assert next(read, None) is None, "paho's loop_read would have read one packet"
    inner._sock = None


async def test_the_wake_up_pipe_is_closed_once_connected() -> None:
    client = aiomqtt.Client("127.0.0.1")
    shims.no_wakeup_pipe(client)
    inner = shims.paho_of(client)

    inner._sockpairR, inner._sockpairW = socket.socketpair()
    pair = (inner._sockpairR, inner._sockpairW)
    accepted = ReasonCode(PacketTypes.CONNACK, identifier=0)
    inner.on_connect(inner, None, paho.ConnectFlags(False), accepted, None)
    assert inner._sockpairR is None and inner._sockpairW is None, loud("paho _sockpairW")
    assert all(end.fileno() == -1 for end in pair)  # closed
    assert client._connected.done(), loud("aiomqtt's on_connect wiring")


# --- paho ----------------------------------------------------------------------------


def test_a_topic_that_is_not_utf8_is_shown_not_raised() -> None:
    msg = paho.MQTTMessage(topic=b"bad/\xff")
    assert shims.topic_of(msg) == "bad/\ufffd", loud("paho MQTTMessage._topic")


def test_the_fast_client_overrides_what_paho_has() -> None:
    for name in ("_handle_publish", "_handle_on_message", "_sock_recv"):
        assert callable(getattr(paho.Client, name, None)), loud(f"paho Client.{name}")
    client = shims.FastPaho(CallbackAPIVersion.VERSION2)
    for name in ("_in_packet", "_protocol", "_sock"):
        assert hasattr(client, name), loud(f"paho Client.{name}")


# --- the short path for QoS 0 messages, against paho's own decoding -----------------


def _publish_packet(
    topic: bytes, payload: bytes, *, v5: bool, flags: int = 0, props: bytes = b""
) -> tuple[int, bytearray]:
    body = len(topic).to_bytes(2, "big") + topic
    if v5:
        body += bytes([len(props)]) + props
    return 0x30 | flags, bytearray(body + payload)


def _content_type() -> bytes:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = "text/plain"
    props.UserProperty = ("k", "v")
    packed: bytes = props.pack()  # type: ignore[no-untyped-call]
    return packed[1:]  # without its length byte, which _publish_packet adds


CASES = [
    (b"a/b", b"hello", 0, b""),
    (b"a/b", b"kept", 0x01, b""),  # retain
    (b"a/b", b"again", 0x08, b""),  # dup
    (b"a/b", b"", 0, b""),  # empty payload
    (b"a/b", b"", 0x09, b""),  # retain + dup, empty
    (b"x" * 300, b"\xff\x00" * 5000, 0x08, b""),
    ("t/\u00e9\u4e2d".encode(), bytes(range(256)), 0, b""),
    ("grüße/✓".encode(), b"{}", 0x09, b""),
    (b"a/b", b"typed", 0, b"\x03\x00\x0atext/plain"),  # a property: paho's way
    (b"a", b"with properties", 0, _content_type()),
]
# Properties exist in MQTT 5 only: no 3.1.1 case carries them.
DECODING = [
    pytest.param(v5, *case, id=f"{'mqtt5' if v5 else 'mqtt311'}-{i}")
    for i, case in enumerate(CASES)
    for v5 in (True, False)
    if v5 or not case[3]
]


def _decode(client: paho.Client, command: int, packet: bytearray) -> Message:
    got: list[Message] = []
    if isinstance(client, shims.FastPaho):
        client.deliver = got.append
        client.clock = lambda: 1.5
    client.on_message = lambda _c, _u, msg: got.append(message_from_paho(msg, lambda: 1.5))
    client._in_packet = {"command": command, "packet": packet}  # type: ignore[typeddict-item]
    client._handle_publish()
    assert len(got) == 1, loud("paho Client._handle_publish")
    return got[0]


@pytest.mark.parametrize(("v5", "topic", "payload", "flags", "props"), DECODING)
def test_fast_decoding_matches_paho(
    v5: bool, topic: bytes, payload: bytes, flags: int, props: bytes
) -> None:
    protocol = paho.MQTTv5 if v5 else paho.MQTTv311
    command, packet = _publish_packet(topic, payload, v5=v5, flags=flags, props=props)
    ours = _decode(shims.FastPaho(CallbackAPIVersion.VERSION2, protocol=protocol), command, packet)
    command, packet = _publish_packet(topic, payload, v5=v5, flags=flags, props=props)
    theirs = _decode(paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol), command, packet)
    assert ours == theirs
    assert type(ours.payload) is bytes
