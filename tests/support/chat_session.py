"""One running chat service for a test: started, awaited until connected, stopped
cleanly afterwards, with a :class:`~tests.support.recorder.Recorder` of its events;
and the settings of a chat user on a test mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.events import ConnectionChanged, ContactsChanged
from mqchat.core.model import ConnectionState, ContactStatus
from mqchat.store import ChatStore
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

__all__ = ["befriend", "connected_service", "knows", "running", "settings_for"]


@asynccontextmanager
async def connected_service(
    settings: Settings, *, backoff: Backoff | None = None, timeout: float = 10.0
) -> AsyncIterator[tuple[ChatService, Recorder, ConnectionChanged]]:
    """``(service, events, the CONNECTED event)`` for ``settings``."""
    service = ChatService(settings, backoff=backoff)
    events = Recorder()
    service.set_listener(events)
    task = asyncio.create_task(service.run())
    try:
        up = await events.wait_for(
            ConnectionChanged, lambda e: e.state is ConnectionState.CONNECTED, timeout=timeout
        )
        yield service, events, up
    finally:
        await service.stop()
        await asyncio.wait_for(task, 10)


def settings_for(broker: Mosquitto, user: str, ns: str, data: Path, **kw: object) -> Settings:
    """``user`` on ``broker``; a keepalive of 5 s unless ``kw`` says otherwise."""
    kw.setdefault("keepalive", 5)
    return Settings(
        broker=parse_broker_url(broker.url),
        user=user,
        display_name=user.title(),
        data_dir=data,
        namespace=ns,
        **kw,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def running(
    broker: Mosquitto, user: str, ns: str, data: Path
) -> AsyncIterator[tuple[ChatService, Recorder]]:
    """A connected ChatService for ``user``; stopped cleanly afterwards."""
    async with connected_service(settings_for(broker, user, ns, data)) as (service, events, _):
        yield service, events


async def befriend(
    asker: ChatService, asker_events: Recorder, other: ChatService, other_events: Recorder
) -> None:
    """``asker`` asks ``other``, who accepts: from now on the broker queues what
    each sends the other while they are away (strangers' messages it does not)."""
    await asker.add_contact(other.user)
    await other_events.wait_for(ContactsChanged, lambda e: e.user == asker.user)
    await other.add_contact(asker.user)
    await asker_events.wait_for(
        ContactsChanged,
        lambda e: (
            e.user == other.user
            and e.contact is not None
            and e.contact.status is ContactStatus.FRIEND
        ),
    )


async def knows(settings: Settings, peer: str) -> None:
    """Make ``peer`` a friend in the store of ``settings``'s user, before it runs."""
    async with await ChatStore.open(settings.database) as store:
        await store.add_contact(peer, status=ContactStatus.FRIEND)
