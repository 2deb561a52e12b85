"""Headless room operations for scripts (``mqchat room …``, ``mqchat send --room``):
the room is changed in the sender's history and what the members must hear is
published on a one-shot clean session, as ``mqchat send`` does: the chat's own
persistent session and presence are never touched."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mqchat.chat.backend import SendError
from mqchat.chat.headless_sealing import seal_session
from mqchat.chat.rooms import Rooms
from mqchat.config.settings import Settings
from mqchat.core.model import DeliveryState, utc_now
from mqchat.core.rooms import RoomError
from mqchat.core.text import display_safe
from mqchat.core.topics import inbox_topic
from mqchat.mqtt.errors import MqttError, PublishRefused, describe_failure
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.mqtt.session import open_session
from mqchat.mqtt.tls import TlsSetupError
from mqchat.store import ChatStore, StoreError

__all__ = ["RoomCommandError", "run_room", "send_to_room"]

T = TypeVar("T")


class RoomCommandError(Exception):
    """One line for the user: what could not be done, and why."""


async def run_room(settings: Settings, action: Callable[[Rooms], Awaitable[T]]) -> T:
    """``action`` on the user's rooms, with a connection to publish what it sends.
    Raises :class:`RoomCommandError`."""
    try:
        store = await ChatStore.open(settings.database, within=settings.data_dir)
    except StoreError as exc:
        raise RoomCommandError(str(exc)) from None
    try:
        return await _connected(settings, store, action)
    except (RoomError, SendError) as exc:
        raise RoomCommandError(str(exc)) from None
    except StoreError as exc:
        raise RoomCommandError(f"the history cannot be written: {exc}") from None
    finally:
        await store.close()


async def _connected(
    settings: Settings, store: ChatStore, action: Callable[[Rooms], Awaitable[T]]
) -> T:
    async def opened() -> ChatStore:
        return store

    rooms = Rooms(
        user=settings.user,
        namespace=settings.namespace,
        store=opened,
        emit=lambda _event: None,
        receipt=lambda *_receipt: None,
        clock=utc_now,
    )
    choice = ProtocolChoice.of(settings)
    try:
        async with asyncio.timeout(settings.connect_timeout * 2):
            while True:
                try:
                    async with open_session(settings, choice.current) as session:
                        for warning in await seal_session(settings, store, session):
                            print(f"mqchat: {display_safe(warning)}", file=sys.stderr)
                        await rooms.connected(session)
                        return await action(rooms)
                except MqttError as exc:
                    if not choice.fall_back(exc):
                        raise
    except (MqttError, OSError, TlsSetupError) as exc:
        raise RoomCommandError(describe_failure(exc, settings).reason) from None
    except TimeoutError:
        raise RoomCommandError(f"no answer from {settings.broker.label} (timed out)") from None


async def send_to_room(settings: Settings, room: str, body: str) -> str:
    """Send ``body`` to ``room``; returns the message id."""

    async def send(rooms: Rooms) -> str:
        msg = await rooms.message(room, body)
        store = await rooms.store()
        await store.add_message(msg)  # stored first: a crash after publishing loses nothing
        session = rooms.session
        assert session is not None
        for member, payload in rooms.fan_out(msg):
            if member == settings.user:
                continue
            try:
                topic = inbox_topic(settings.namespace, member, settings.user)
                await session.publish(topic, payload)
            except PublishRefused as exc:
                await store.set_state(msg.id, DeliveryState.FAILED)
                why = f"{settings.broker.label} refused it for {member}: {exc.reason}"
                raise SendError(why) from None
        await store.set_state(msg.id, DeliveryState.SENT)
        return msg.id

    return await run_room(settings, send)
