"""Acknowledging after storing, against a real mosquitto: a QoS 1 message that was
received but not acknowledged (:meth:`Session.ack`) comes back on the next connection
of the same persistent session; once acknowledged, it does not."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager

import aiomqtt
import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.mqtt.protocol import Protocol
from mqchat.mqtt.session import Incoming, Session, open_session
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def persistent(broker: Mosquitto, identifier: str) -> AbstractAsyncContextManager[Session]:
    settings = Settings(broker=parse_broker_url(broker.url), user="ack", session_expiry=300)
    return open_session(settings, Protocol.V5, session_id=identifier, manual_ack=True)


async def first(session: Session) -> Incoming:
    return await asyncio.wait_for(anext(aiter(session.messages())), 5)


async def publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
        await sender.publish(topic, payload, qos=1)


async def test_unacknowledged_message_comes_back_and_acknowledged_one_does_not(
    broker: Mosquitto, namespace: str
) -> None:
    topic = f"{namespace}/ack"
    identifier = f"ack-test-{uuid.uuid4().hex[:8]}"
    async with persistent(broker, identifier) as session:
        await session.subscribe(topic, qos=1)
        await publish(broker, topic, b"one")
        got = await first(session)
        assert got.payload == b"one"
        # leave without acknowledging: the broker must keep it for us

    async with persistent(broker, identifier) as session:
        again = await first(session)
        assert again.payload == b"one"  # redelivered to the resumed session
        session.ack(again)
        # The PUBACK went out before this PUBLISH; its arrival proves the order.
        await publish(broker, topic, b"two")
        second = await first(session)
        assert second.payload == b"two"
        session.ack(second)

    async with persistent(broker, identifier) as session:
        await publish(broker, topic, b"three")
        third = await first(session)
        assert third.payload == b"three"  # neither "one" nor "two" came back first
        session.ack(third)


async def test_acknowledging_a_qos0_message_sends_nothing(
    broker: Mosquitto, namespace: str
) -> None:
    topic = f"{namespace}/ack0"
    async with persistent(broker, f"ack0-{uuid.uuid4().hex[:8]}") as session:
        await session.subscribe(topic, qos=0)
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            await sender.publish(topic, b"fire and forget", qos=0)
        got = await first(session)
        assert got.qos == 0
        session.ack(got)  # a PUBACK for QoS 0 would be a protocol error
        await session.publish(topic, b"still connected", qos=1, json=False)
        assert (await first(session)).payload == b"still connected"
