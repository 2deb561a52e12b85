"""End-to-end encryption for the one-shot commands (``mqchat send``, ``mqchat room``,
``mqchat send --room``), which publish on a connection of their own without the chat
service: this device's keys are published, everybody's trusted keys read (trust on
first use, as the chat does), and what the command publishes on inbox and requests
topics is sealed like the chat's (chat/encryption.py)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from mqchat.chat.backend import SendError
from mqchat.chat.encryption import ANNOUNCE_WAIT_S, Encryption
from mqchat.config.settings import Settings
from mqchat.core.events import Event, Notice
from mqchat.core.model import utc_now
from mqchat.core.topics import TopicKind, keys_filter, parse_topic
from mqchat.mqtt.errors import MqttError
from mqchat.store import ChatStore

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["seal_session"]


async def seal_session(settings: Settings, store: ChatStore, session: Session) -> list[str]:
    """Make ``session`` seal what it publishes for users with keys. Returns the
    warnings the chat would show (a peer's keys changed), one line each. Raises
    :class:`SendError` when this device's keys cannot be read."""
    if not settings.encryption:
        return []
    warnings: list[str] = []

    def note(event: Event) -> None:
        if isinstance(event, Notice) and event.severity == "error":
            warnings.append(f"{event.title}: {event.text}")

    async def opened() -> ChatStore:
        return store

    crypto = Encryption(
        user=settings.user, namespace=settings.namespace, store=opened, emit=note, clock=utc_now
    )
    bad = await crypto.start(await store.device_id(), settings.database)
    if bad is not None:
        raise SendError(bad)
    await session.subscribe(keys_filter(settings.namespace), 0)

    async def read() -> None:
        async for message in session.messages():
            parsed = parse_topic(settings.namespace, message.topic)
            if parsed is not None and parsed.kind is TopicKind.KEYS and parsed.device:
                await crypto.record_arrived(parsed.user, parsed.device, message.payload)

    reading = asyncio.create_task(read())
    try:
        # Our keys, and until they come back: every retained record came before.
        await crypto.announce(session, wait=ANNOUNCE_WAIT_S)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, MqttError):
            await reading
    session.before_publish = crypto.seal_for_topic
    return warnings
