"""The manual acknowledgement wrapper against a real mosquitto: a QoS 1 message that
was received but not acknowledged comes back on the next connection of the same
persistent session; once acknowledged, it does not."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqchat.mqtt.manual_ack import acknowledge, enable_manual_ack
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def persistent_client(broker: Mosquitto, identifier: str) -> aiomqtt.Client:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 300
    client = aiomqtt.Client(
        "127.0.0.1",
        broker.port,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=props,
    )
    enable_manual_ack(client)
    return client


async def first(client: aiomqtt.Client) -> aiomqtt.Message:
    return await asyncio.wait_for(anext(aiter(client.messages)), 5)


async def publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
        await sender.publish(topic, payload, qos=1)


async def test_unacknowledged_message_comes_back_and_acknowledged_one_does_not(
    broker: Mosquitto, namespace: str
) -> None:
    topic = f"{namespace}/ack"
    identifier = f"ack-test-{uuid.uuid4().hex[:8]}"
    async with persistent_client(broker, identifier) as client:
        await client.subscribe(topic, qos=1)
        await publish(broker, topic, b"one")
        got = await first(client)
        assert got.payload == b"one"
        # leave without acknowledging: the broker must keep it for us

    async with persistent_client(broker, identifier) as client:
        again = await first(client)
        assert again.payload == b"one"  # redelivered to the resumed session
        acknowledge(client, again)
        # The PUBACK went out before this PUBLISH; its arrival proves the order.
        await publish(broker, topic, b"two")
        second = await first(client)
        assert second.payload == b"two"
        acknowledge(client, second)

    async with persistent_client(broker, identifier) as client:
        await publish(broker, topic, b"three")
        third = await first(client)
        assert third.payload == b"three"  # neither "one" nor "two" came back first
        acknowledge(client, third)


async def test_acknowledging_a_qos0_message_sends_nothing(
    broker: Mosquitto, namespace: str
) -> None:
    topic = f"{namespace}/ack0"
    async with persistent_client(broker, f"ack0-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(topic, qos=0)
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            await sender.publish(topic, b"fire and forget", qos=0)
        got = await first(client)
        assert got.qos == 0
        acknowledge(client, got)  # a PUBACK for QoS 0 would be a protocol error
        await client.publish(topic, b"still connected", qos=1)
        assert (await first(client)).payload == b"still connected"
