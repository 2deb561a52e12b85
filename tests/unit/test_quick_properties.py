"""paho's decoder builds :class:`QuickProperties` (installed by mqchat/mqtt/shims.py),
and they behave as paho's own ``Properties`` in everything the wire and aiomqtt use:
an upgrade of paho that changes its ``Properties`` fails here, naming the version."""

from __future__ import annotations

import struct

import pytest
from paho.mqtt import __version__ as paho_version
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import MQTTException, Properties

from mqchat.mqtt import shims
from mqchat.mqtt.quick_properties import QuickProperties

MOVED = f"paho-mqtt {paho_version}: Properties changed; see mqchat/mqtt/quick_properties.py"


def filled(cls: type[Properties], packet: int = PacketTypes.PUBLISH) -> Properties:
    props = cls(packet)
    props.ContentType = "application/json"
    props.MessageExpiryInterval = 60
    props.UserProperty = [("a", "1"), ("b", "2")]
    props.CorrelationData = b"\x00\xff"
    return props


def test_they_hold_what_paho_s_own_hold() -> None:
    for packet in (PacketTypes.PUBLISH, PacketTypes.CONNACK, PacketTypes.PUBACK):
        QuickProperties(packet)  # the first builds the shared tables
        quick, stock = QuickProperties(packet), Properties(packet)
        assert vars(quick) == vars(stock), MOVED
    assert filled(QuickProperties).pack() == filled(Properties).pack(), MOVED
    assert filled(QuickProperties).json() == filled(Properties).json(), MOVED


def test_they_read_back_what_paho_wrote_and_clear() -> None:
    wire = filled(Properties).pack()
    quick, stock = QuickProperties(PacketTypes.PUBLISH), Properties(PacketTypes.PUBLISH)
    assert quick.unpack(wire)[1] == stock.unpack(wire)[1] == len(wire)
    assert quick.json() == stock.json() == filled(Properties).json(), MOVED
    assert not quick.isEmpty()
    quick.unpack(b"\x00")  # clears what the last one held
    assert quick.isEmpty() and quick.json() == {}, MOVED


def test_paho_s_checks_still_apply() -> None:
    props = QuickProperties(PacketTypes.PUBLISH)
    with pytest.raises(MQTTException):
        props.NoSuchProperty = 1
    with pytest.raises(MQTTException):
        props.MaximumPacketSize = 1000  # a CONNECT/CONNACK property
    with pytest.raises(MQTTException):
        props.PayloadFormatIndicator = 2


def test_paho_s_publish_decoder_builds_them() -> None:
    assert shims.QUICK_PROPERTIES_INSTALLED, MOVED
    topic, body = b"t/x", b"hello"
    props = filled(Properties).pack()
    packet = struct.pack("!H", len(topic)) + topic + struct.pack("!H", 7) + props + body
    decoded = _packet.decode_publish(0x32, packet, MQTTProtocolVersion.MQTTv5)
    assert isinstance(decoded.properties, QuickProperties), MOVED
    assert decoded.payload == body and decoded.mid == 7
    assert decoded.properties.json() == filled(Properties).json()


def test_a_property_set_seen_before_reads_back_the_same_and_its_own() -> None:
    wire = filled(Properties).pack()
    first, again = QuickProperties(PacketTypes.PUBLISH), QuickProperties(PacketTypes.PUBLISH)
    assert first.unpack(wire)[1] == again.unpack(wire)[1] == len(wire)
    assert first.json() == again.json() == filled(Properties).json()
    first.UserProperty.append(("c", "3"))  # each holds a list of its own
    assert again.UserProperty == [("a", "1"), ("b", "2")]
    third = QuickProperties(PacketTypes.PUBLISH)
    assert third.unpack(wire)[0].json() == filled(Properties).json()


def test_a_malformed_property_set_is_refused_as_paho_refuses_it() -> None:
    bad = b"\x05\x03\x00\x09abc"  # a content type longer than the properties
    for cls in (Properties, QuickProperties, QuickProperties):
        with pytest.raises(Exception) as caught:
            cls(PacketTypes.PUBLISH).unpack(bad)
        assert caught.type.__name__ in {"MalformedPacket", "MQTTException", "IndexError"}


def test_large_property_sets_are_not_remembered() -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = b"x" * 5000
    wire = props.pack()
    QuickProperties._unpacked.clear()
    quick = QuickProperties(PacketTypes.PUBLISH)
    assert quick.unpack(wire)[1] == len(wire)
    assert quick.CorrelationData == b"x" * 5000
    assert QuickProperties._unpacked == {}


def test_packing_the_same_set_again_gives_the_same_bytes() -> None:
    quick = filled(QuickProperties)
    assert quick.pack() == quick.pack() == filled(Properties).pack()
    quick.ContentType = "text/plain"  # changed: packed anew
    stock = filled(Properties)
    stock.ContentType = "text/plain"
    assert quick.pack() == stock.pack()
