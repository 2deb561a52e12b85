"""Subscriptions that did not go through are tried again: a broken connection or a
stop in the middle of a SUBSCRIBE loses nothing, and a clean quit leaves the broker's
session with every filter wanted (a friend accepted a moment ago must find their
messages queued for us while we are away)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from mqchat.chat.subscriptions import Subscriptions
from mqchat.mqtt.errors import MqttError
from mqchat.mqtt.session import Session

INBOX_FROM_ALICE = "ns/u/bob/inbox/alice"


class FakeSession:
    """What Subscriptions asks of a session: SUBSCRIBE and UNSUBSCRIBE."""

    def __init__(self) -> None:
        self.held: dict[str, int] = {}
        self.fail = False
        self.gate: asyncio.Event | None = None
        self.waiting = asyncio.Event()

    async def subscribe_many(self, filters: list[tuple[str, int]]) -> None:
        if self.gate is not None:
            self.waiting.set()
            await self.gate.wait()
        if self.fail:
            raise MqttError("the connection broke")
        self.held.update(filters)

    async def unsubscribe(self, topic_filter: str) -> None:
        self.held.pop(topic_filter, None)


async def attached() -> tuple[Subscriptions, FakeSession]:
    subs = Subscriptions(user="bob", namespace="ns")
    session = FakeSession()
    await subs.attach(cast(Session, cast(Any, session)))
    return subs, session


async def test_a_failed_subscribe_is_tried_again_at_the_next_sync() -> None:
    subs, session = await attached()
    subs.set_contact("alice", trusted=True)
    session.fail = True
    await subs.sync()  # the error is the connection's, told elsewhere
    assert INBOX_FROM_ALICE not in session.held
    session.fail = False
    await subs.sync()
    assert session.held[INBOX_FROM_ALICE] == 1


async def test_a_stop_during_a_subscribe_still_leaves_it_in_the_session() -> None:
    subs, session = await attached()
    subs.set_contact("alice", trusted=True)
    session.gate = asyncio.Event()
    syncing = asyncio.create_task(subs.sync())
    await session.waiting.wait()  # it is waiting for the SUBACK
    syncing.cancel()  # the app stops: its tasks are cancelled
    with pytest.raises(asyncio.CancelledError):
        await syncing
    session.gate = None
    await subs.leaving(cast(Session, cast(Any, session)))  # the clean quit
    assert session.held[INBOX_FROM_ALICE] == 1
