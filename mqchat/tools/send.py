"""Headless one-shot operations for scripts: send one message and leave, without
touching presence."""

from __future__ import annotations

import asyncio

import aiomqtt

from mqchat.chat.backend import SendError
from mqchat.chat.outgoing import prepare_text
from mqchat.config.settings import Settings
from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState
from mqchat.core.topics import inbox_topic
from mqchat.mqtt.connection import (
    Protocol,
    describe_failure,
    forced_protocol,
    json_properties,
    make_client,
    refuses_protocol,
)
from mqchat.mqtt.publish_check import PublishRefused, publish_checked
from mqchat.mqtt.tls import TlsSetupError
from mqchat.store import ChatStore

__all__ = ["send_once"]


async def send_once(settings: Settings, peer: str, body: str) -> ChatMessage:
    """Publish one text message at QoS 1 and store it in the sender's history once the
    broker acknowledged it. Raises :class:`SendError` with a one-line reason."""
    msg, data = prepare_text(settings.user, peer, body, max_payload=settings.max_payload)
    store = await ChatStore.open(settings.database)
    try:
        # Stored first, so a crash after the PUBACK cannot lose it; the id makes a
        # later resend harmless. A failed attempt stays in the history as failed.
        if await store.contact(peer) is None:
            # The chat sends the friend request on its next connection.
            await store.add_contact(peer, status=ContactStatus.REQUESTED)
        await store.add_message(msg)
        try:
            await _publish(settings, inbox_topic(settings.namespace, peer, settings.user), data)
        except SendError:
            await store.set_state(msg.id, DeliveryState.FAILED)
            raise
        return await store.set_state(msg.id, DeliveryState.SENT) or msg
    finally:
        await store.close()


async def _publish(settings: Settings, topic: str, data: bytes) -> None:
    forced = forced_protocol(settings)
    try:
        # Both attempts together stay within 20 s (twice the connect timeout): a
        # script gets its answer, whatever the broker does.
        async with asyncio.timeout(settings.connect_timeout * 2):
            try:
                await _publish_with(forced or Protocol.V5, settings, topic, data)
            except aiomqtt.MqttError as exc:
                if forced is not None or not refuses_protocol(exc):
                    raise
                await _publish_with(Protocol.V311, settings, topic, data)
    except (aiomqtt.MqttError, OSError, TlsSetupError) as exc:
        raise SendError(describe_failure(exc, settings).reason) from None
    except TimeoutError:
        raise SendError(f"no answer from {settings.broker.label} (timed out)") from None


async def _publish_with(protocol: Protocol, settings: Settings, topic: str, data: bytes) -> None:
    # A clean session with a random id: the chat's persistent session (same user,
    # maybe running right now) is never taken over by a one-shot command.
    async with make_client(settings, protocol=protocol) as client:
        try:
            await publish_checked(client, topic, data, properties=json_properties(protocol))
        except PublishRefused as exc:
            raise SendError(
                f"{settings.broker.label} refused the message: {exc.reason.lower()} (does "
                f"this login, {settings.mqtt_username}, may send as {settings.user}?)"
            ) from None
