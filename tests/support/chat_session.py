"""One running chat service for a test: started, awaited until connected, stopped
cleanly afterwards, with a :class:`~tests.support.recorder.Recorder` of its events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mqchat.chat.service import ChatService
from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from tests.support.recorder import Recorder

__all__ = ["connected_service"]


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
