"""Everything ``mqchat demo`` runs besides the TUI: a private broker on a free port and
the bots, on an event loop of their own in a background thread, so the TUI runs as
it always does in the main thread. :class:`DemoWorld` starts them, says when the
broker is ready, and stops them all when the TUI is closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from mqchat.broker.runner import start_broker
from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ConnectionChanged, ContactsChanged, Event
from mqchat.core.model import ConnectionState, ContactStatus, utc_now
from mqchat.demo.bots import run_ada, run_ben, run_sensor

__all__ = ["DEMO_CONTACTS", "DemoStartError", "DemoWorld"]

DEMO_CONTACTS = ("ada", "ben")
log = logging.getLogger(__name__)


class DemoStartError(RuntimeError):
    """The demo's broker or first connection did not come up, with the reason."""


@dataclass(frozen=True)
class DemoInfo:
    url: str
    broker: str
    """Which broker runs: ``mosquitto`` or ``embedded``."""


class DemoWorld:
    """The broker and bots for ``user`` (the person at the TUI), with their data in
    ``data_dir``. :meth:`start` blocks until the broker is up and ``user`` has asked
    the bots to be friends; :meth:`stop` ends it all."""

    def __init__(
        self,
        data_dir: Path,
        user: str,
        *,
        embedded: bool = False,
        ben_online: float = 25.0,
        ben_offline: float = 12.0,
        sensor_every: float = 2.0,
    ) -> None:
        self.data_dir = data_dir
        self.user = user
        self.embedded = embedded
        self.timing = (ben_online, ben_offline, sensor_every)
        self.info: DemoInfo | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="mqchat-demo", daemon=True)

    def start(self, timeout: float = 30.0) -> DemoInfo:
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise DemoStartError(f"the demo did not start within {timeout:g} s")
        if self._error is not None or self.info is None:
            self.stop()
            raise DemoStartError(str(self._error or "the demo did not start"))
        return self.info

    def stop(self, timeout: float = 10.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def settings(self, url: str, user: str) -> Settings:
        return Settings(broker=parse_broker_url(url), user=user, data_dir=self.data_dir)

    # -- the background thread ------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._world())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    async def _world(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        broker = await start_broker(
            "127.0.0.1", 0, embedded=self.embedded, data_dir=self.data_dir / "broker"
        )
        tasks: list[asyncio.Task[None]] = []
        try:
            url = broker.url
            online, offline, every = self.timing
            ada_up, ben_up = asyncio.Event(), asyncio.Event()
            tasks = [
                asyncio.create_task(run_ada(self.settings(url, "ada"), utc_now, online=ada_up)),
                asyncio.create_task(
                    run_ben(
                        self.settings(url, "ben"),
                        online=online,
                        offline=offline,
                        first_online=ben_up,
                    )
                ),
                asyncio.create_task(run_sensor(self.settings(url, "sensor"), every=every)),
            ]
            # On a fresh broker a request sent before a bot has subscribed is lost.
            async with asyncio.timeout(15):
                await asyncio.gather(ada_up.wait(), ben_up.wait())
            await self._befriend_bots(url)
            self.info = DemoInfo(url, str(broker.kind))
            self._ready.set()
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()

    async def _befriend_bots(self, url: str) -> None:
        """Log in once as the user and ask the bots to be friends, so the friends
        list has them when the TUI opens: done when both have accepted."""
        service = ChatService(self.settings(url, self.user))
        up = asyncio.Event()
        waiting = set(DEMO_CONTACTS)
        befriended = asyncio.Event()

        def on_event(event: Event) -> None:
            if isinstance(event, ConnectionChanged) and event.state is ConnectionState.CONNECTED:
                up.set()
            elif isinstance(event, ContactsChanged) and event.contact is not None:
                if event.contact.status is ContactStatus.FRIEND:
                    waiting.discard(event.user)
                if not waiting:
                    befriended.set()

        service.set_listener(on_event)
        runner = asyncio.create_task(service.run())
        try:
            async with asyncio.timeout(15):
                await up.wait()
            for contact in DEMO_CONTACTS:
                await service.add_contact(contact)
            async with asyncio.timeout(15):
                await befriended.wait()
        finally:
            await service.stop()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
