"""Headless one-shot operations for scripts: send one message and leave, without
touching presence."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from mqchat.chat.backend import SendError
from mqchat.chat.headless_sealing import seal_session
from mqchat.chat.outgoing import prepare_text
from mqchat.config.settings import Settings
from mqchat.core.envelope import FriendRequest, encode_envelope
from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState
from mqchat.core.text import display_safe
from mqchat.core.topics import inbox_topic, request_topic
from mqchat.mqtt.errors import MqttError, PublishRefused, describe_failure
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.session import PacketTooLarge, open_session
from mqchat.mqtt.tls import TlsSetupError
from mqchat.store import ChatStore, StoreError, StoreOpenError

__all__ = ["send_once"]


async def send_once(settings: Settings, peer: str, body: str) -> ChatMessage:
    """Publish one text message at QoS 1 and store it in the sender's history once the
    broker acknowledged it. Raises :class:`SendError` with a one-line reason."""
    msg, data = prepare_text(settings.user, peer, body, max_payload=settings.max_payload)
    try:
        return await _store_and_send(settings, peer, msg, data)
    except StoreOpenError as exc:
        raise SendError(str(exc)) from None
    except StoreError as exc:  # nothing was sent: it is sent only once stored
        raise SendError(f"the history cannot be written: {exc}") from None


async def _store_and_send(
    settings: Settings, peer: str, msg: ChatMessage, data: bytes
) -> ChatMessage:
    store = await ChatStore.open(settings.database, within=settings.data_dir)
    try:
        # Stored first, so a crash after the PUBACK cannot lose it; the id makes a
        # later resend harmless. A failed attempt stays in the history as failed.
        if await store.contact(peer) is None:
            await store.add_contact(peer, status=ContactStatus.REQUESTED)
        asking = peer in {c.user for c in await store.requests_to_send()}
        await store.add_message(msg)
        ns, me = settings.namespace, settings.user
        request = encode_envelope(FriendRequest.new(me, peer, name=settings.name))
        # A stranger takes our text only while online; our request waits for them
        # (retained), and once they accept, the chat sends the text again.
        asks = [(request_topic(ns, peer, me), request)] if asking else []
        try:
            await _publish(settings, store, [*asks, (inbox_topic(ns, peer, me), data)])
        except SendError:
            await store.set_state(msg.id, DeliveryState.FAILED)
            raise
        if asking:
            await store.mark_request_sent(peer)
        return await store.set_state(msg.id, DeliveryState.SENT) or msg
    finally:
        await store.close()


async def _publish(settings: Settings, store: ChatStore, packets: list[tuple[str, bytes]]) -> None:
    """Publish each (topic, payload); a request topic's retained, its refusal ignored
    (an ACL from before requests topics)."""
    choice = ProtocolChoice.of(settings)
    try:
        # Both attempts together stay within 20 s (twice the connect timeout): a
        # script gets its answer, whatever the broker does.
        async with asyncio.timeout(settings.connect_timeout * 2):
            while True:
                try:
                    await _publish_with(choice.current, settings, store, packets)
                    return
                except MqttError as exc:
                    if not choice.fall_back(exc):
                        raise
    except (MqttError, OSError, TlsSetupError) as exc:
        raise SendError(describe_failure(exc, settings).reason) from None
    except TimeoutError:
        raise SendError(f"no answer from {settings.broker.label} (timed out)") from None


async def _publish_with(
    protocol: Protocol, settings: Settings, store: ChatStore, packets: list[tuple[str, bytes]]
) -> None:
    # A clean session with a random id: the chat's persistent session (same user,
    # maybe running right now) is never taken over by a one-shot command.
    async with open_session(settings, protocol) as session:
        for warning in await seal_session(settings, store, session):
            print(f"mqchat: {display_safe(warning)}", file=sys.stderr)
        *asks, (topic, data) = packets
        for ask_topic, ask in asks:
            with contextlib.suppress(PublishRefused):
                await session.publish(ask_topic, ask, retain=True)
        try:
            await session.publish(topic, data)
        except PacketTooLarge as exc:
            raise SendError(f"{settings.broker.label} refused the message: {exc.reason}") from None
        except PublishRefused as exc:
            raise SendError(
                f"{settings.broker.label} refused the message: {exc.reason.lower()} (does "
                f"this login, {settings.mqtt_username}, may send as {settings.user}?)"
            ) from None
