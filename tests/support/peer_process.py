"""A chat client in a process of its own, for tests that SIGKILL it:
``python -m tests.support.peer_process BROKER_URL USER NAMESPACE DATA_DIR``. Prints
``connected`` once online and ``received ID`` for each chat message it stored."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived, ConnectionChanged, Event
from mqchat.core.model import ConnectionState


async def main(url: str, user: str, ns: str, data: str) -> None:
    settings = Settings(
        broker=parse_broker_url(url), user=user, data_dir=Path(data), namespace=ns, keepalive=5
    )
    service = ChatService(settings)

    def announce(event: Event) -> None:
        if isinstance(event, ConnectionChanged) and event.state is ConnectionState.CONNECTED:
            print("connected", flush=True)
        elif isinstance(event, ChatReceived):
            print("received", event.message.id, flush=True)

    service.set_listener(announce)
    await service.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
