"""The demo's contacts, each a real mqchat client on the demo broker: Ada answers what
you write, Ben comes and goes (messages sent while he is away reach him when he is
back), and a sensor publishes readings for the inspector. They accept any friend
request, so whoever runs the demo has friends at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

from mqchat.chat.service import ChatService
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived, ConnectionChanged, ContactsChanged, Event
from mqchat.core.model import ConnectionState, ContactStatus
from mqchat.mqtt.errors import MqttError
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.mqtt.session import open_session

__all__ = ["NAMES", "SENSOR_FILTER", "SENSOR_TOPICS", "answer", "run_ada", "run_ben", "run_sensor"]

log = logging.getLogger(__name__)

SENSOR_TOPICS = ("home/room1/temperature", "home/room1/climate")
"""A plain number, and JSON with two numeric fields (``n`` in the inspector switches)."""
SENSOR_FILTER = "home/#"
NAMES = {"ada": "Ada", "ben": "Ben"}
"""The bots' display names: plain names, as a person's, since the TUI writes the user
name after them (``Ada (ada)``); Ada says she is a bot, Ben's comings and goings show."""


def answer(text: str, now: datetime) -> str:
    """Ada's reply to ``text``: a few things she understands, else she repeats it."""
    words = text.lower()
    if any(w in words for w in ("hello", "hi", "hey")):
        return "Hello! I'm Ada, a bot on this demo broker. Ask me the time, or about the inspector."
    if "time" in words:
        return f"It is {now.astimezone():%H:%M:%S} here."  # the clock the TUI shows
    if "inspector" in words or words.strip() == "i":
        return (
            "Press ctrl+t here (or escape, then i on the friends list): you will see "
            "this very message go by, and the sensor's readings under home/."
        )
    return f"You said: “{text.strip()[:200]}”. (Try: hello, time, inspector.)"


def _is_connected(event: Event) -> bool:
    return isinstance(event, ConnectionChanged) and event.state is ConnectionState.CONNECTED


class _Bot:
    """One bot's chat service and what it does with events, on the current loop.
    ``online`` is set once it is connected and subscribed to its inbox: a friend
    request published before that would reach nobody."""

    def __init__(
        self,
        settings: Settings,
        on_event: Callable[[_Bot, Event], None],
        online: asyncio.Event | None = None,
    ) -> None:
        self.service = ChatService(settings)
        self._on_event = on_event
        self._tasks: set[asyncio.Task[object]] = set()

        def listener(event: Event) -> None:
            if online is not None and _is_connected(event):
                online.set()
            on_event(self, event)

        self.service.set_listener(listener)

    def later(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run ``coro`` soon, keeping a reference (events arrive synchronously)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_for(self, seconds: float | None) -> None:
        runner = asyncio.create_task(self.service.run())
        try:
            if seconds is None:
                await runner
            else:
                await asyncio.wait({runner}, timeout=seconds)
        finally:
            await self.service.stop()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner


def _befriend(bot: _Bot, event: Event) -> bool:
    """Accept a friend request; ``True`` when ``event`` was one."""
    contact = event.contact if isinstance(event, ContactsChanged) else None
    if contact is not None and contact.status is ContactStatus.INCOMING:
        bot.later(bot.service.add_contact(contact.user))
        return True
    return False


async def run_ada(
    settings: Settings, clock: Callable[[], datetime], *, online: asyncio.Event | None = None
) -> None:
    """Ada: answers every message at once (after reading it), forever; sets ``online``
    once she can be written to."""

    def on_event(bot: _Bot, event: Event) -> None:
        if _befriend(bot, event):
            return
        if isinstance(event, ChatReceived):
            message = event.message

            async def reply() -> None:
                await bot.service.mark_read(message.peer)  # a room's, or the sender's
                await bot.service.send_typing(message.sender)
                await asyncio.sleep(0.8)  # a person-like pause, so "typing…" shows
                await bot.service.send_text(message.sender, answer(message.body, clock()))

            bot.later(reply())

    ada = replace(settings, user="ada", display_name=NAMES["ada"])
    await _Bot(ada, on_event, online).run_for(None)


async def run_ben(
    settings: Settings,
    *,
    online: float = 25.0,
    offline: float = 12.0,
    rounds: int | None = None,
    first_online: asyncio.Event | None = None,
) -> None:
    """Ben: online for ``online`` seconds, then away (a clean goodbye) for ``offline``;
    what arrives while he is away is waiting for him when he is back. Sets
    ``first_online`` once he can be written to (his session keeps his inbox after)."""
    seen: set[str] = set()

    def on_event(bot: _Bot, event: Event) -> None:
        if _befriend(bot, event):
            return
        if isinstance(event, ChatReceived) and event.message.id not in seen:
            seen.add(event.message.id)
            said = event.message.body.strip()[:120]
            text = f"Got it: “{said}”. I come and go, but I get everything."
            bot.later(bot.service.send_text(event.message.sender, text))

    done = 0
    ben = replace(settings, user="ben", display_name=NAMES["ben"])
    while rounds is None or done < rounds:
        await _Bot(ben, on_event, first_online).run_for(online)
        done += 1
        await asyncio.sleep(offline)


async def run_sensor(settings: Settings, *, every: float = 2.0, count: int | None = None) -> None:
    """Readings on :data:`SENSOR_TOPICS`, a gentle random walk, every ``every``
    seconds (retained, so the inspector has a value at once); reconnects if the
    broker goes away."""
    temp, hum, sent = 21.0, 45.0, 0
    rng = random.Random(4)
    sensor = replace(settings, user="sensor")
    choice = ProtocolChoice()
    while count is None or sent < count:
        try:
            async with open_session(sensor, choice.current) as session:
                while count is None or sent < count:
                    temp = round(min(max(temp + rng.uniform(-0.3, 0.3), 15), 30), 2)
                    hum = round(min(max(hum + rng.uniform(-1, 1), 20), 80), 1)
                    climate = json.dumps({"temp": temp, "hum": hum, "unit": "C"})
                    reading = str(temp).encode()
                    await session.publish(SENSOR_TOPICS[0], reading, qos=0, retain=True, json=False)
                    await session.publish(
                        SENSOR_TOPICS[1], climate.encode(), qos=0, retain=True, json=False
                    )
                    sent += 1
                    await asyncio.sleep(every)
        except MqttError as exc:
            if choice.fall_back(exc):
                continue  # the embedded broker, NATS…: at once, in 3.1.1
            log.info("sensor: %s; again in 2 s", exc)
            await asyncio.sleep(2)
