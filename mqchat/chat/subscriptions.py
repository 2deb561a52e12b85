"""What the chat subscribes to, kept in step with its contacts (docs/protocol.md,
"Subscriptions"):

* each trusted contact's inbox topic at QoS 1 (friends, and those we asked): the
  broker queues what they send while we are away;
* the whole inbox at QoS 0: strangers (and contacts who asked us) reach us live, but
  nothing of theirs is queued while we are away, so no stranger can fill the queue
  the broker keeps for us and push our friends' messages out of it;
* the requests topic at QoS 0: one retained friend request per sender, handed over
  on every subscribe, so requests sent while we were away still arrive;
* each contact's presence at QoS 0, and everyone's while the presence view is open.

A broker may deliver a friend's message twice while we are online (once per matching
subscription); the inbound side keeps one (the id)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from mqchat.core.rooms import Room
from mqchat.core.topics import (
    devices_filter,
    inbox_filter,
    inbox_topic,
    keys_filter,
    presence_filter,
    presence_topic,
    requests_filter,
)
from mqchat.mqtt.errors import MqttError

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["Subscriptions"]

_PER_SUBSCRIBE = 100


class Subscriptions:
    def __init__(self, *, user: str, namespace: str) -> None:
        self._user = user
        self._ns = namespace
        self.contacts: set[str] = set()
        """Every contact: their presence is watched."""
        self._roster = False
        self._client: Session | None = None
        self._wanted = {
            inbox_filter(namespace, user): 0,
            requests_filter(namespace, user): 0,
            # Ours (protocol v2, chat/own_devices.py): what our other devices send
            # (held at QoS 1, so it waits for us), their records, and our presence.
            inbox_topic(namespace, user, user): 1,
            devices_filter(namespace, user): 0,
            presence_topic(namespace, user): 0,
            # Everybody's keys (protocol v3, chat/encryption.py), at QoS 1: a key that
            # changes while we are away waits for us, before what was sealed with it.
            keys_filter(namespace): 1,
        }
        self._held: dict[str, int] = {}  # filter -> QoS, on this connection
        self._dirty: set[str] = set()  # filters whose wanted state changed since
        self._lock = asyncio.Lock()

    def wanted(self) -> dict[str, int]:
        return dict(self._wanted)

    def _want(self, topic_filter: str, qos: int | None) -> None:
        if qos is None:
            self._wanted.pop(topic_filter, None)
        else:
            self._wanted[topic_filter] = qos
        self._dirty.add(topic_filter)

    async def attach(self, client: Session) -> None:
        """A new connection: subscribe to everything (a resumed session keeps its
        subscriptions, but which is not ours to know), and drop the roster filter a
        session resumed after a crash may still hold."""
        async with self._lock:
            self._held = {}
            self._dirty = set(self._wanted)
            self._client = client
            await self._sync(client)
            if not self._roster:
                await client.unsubscribe(presence_filter(self._ns))

    def detach(self) -> None:
        self._client = None

    async def leaving(self, client: Session) -> None:
        """A clean quit: the session the broker keeps gets every subscription wanted
        now (a friend accepted a moment ago must find what they send us queued while
        we are away, which only a QoS 1 filter of the session does), and not the
        roster filter."""
        async with self._lock:
            await self._sync(client)
            if self._roster:
                await client.unsubscribe(presence_filter(self._ns))

    def set_contact(self, user: str, *, trusted: bool) -> None:
        self.contacts.add(user)
        self._want(presence_topic(self._ns, user), 0)
        self._want(inbox_topic(self._ns, self._user, user), 1 if trusted else None)

    def trust_members(self, rooms: list[Room]) -> None:
        """What the members of our rooms send us waits for us like a friend's (QoS 1)."""
        for room in rooms:
            for member in room.others(self._user) if room.joined else ():
                self.set_contact(member, trusted=True)

    def forget(self, user: str) -> None:
        self.contacts.discard(user)
        self._want(presence_topic(self._ns, user), None)
        self._want(inbox_topic(self._ns, self._user, user), None)

    def fetch(self, topic: str) -> None:
        """Subscribe to ``topic`` too, from now on (a peer device's keys, by name)."""
        if topic not in self._wanted:
            self._want(topic, 1)

    def set_roster(self, on: bool) -> None:
        self._roster = on
        self._want(presence_filter(self._ns), 0 if on else None)

    async def sync(self) -> None:
        """Bring the connection's subscriptions in line with :meth:`wanted` (nothing
        when disconnected: the next connection subscribes to everything)."""
        async with self._lock:
            client = self._client
            if client is not None:
                with contextlib.suppress(MqttError):  # the connection is going anyway
                    await self._sync(client)

    async def _sync(self, client: Session) -> None:
        """Only what changed since the last sync: cheap with thousands of contacts."""
        while self._dirty:
            dirty, self._dirty = self._dirty, set()
            try:
                await self._apply(client, dirty)
            except BaseException:
                # Not done (the connection broke, or a stop cancelled us): the next
                # sync tries again. Whatever did get through is in _held, and skipped.
                self._dirty |= dirty
                raise

    async def _apply(self, client: Session, dirty: set[str]) -> None:
        """Subscribe and unsubscribe what ``dirty`` changed, a chunk at a time."""
        change = sorted(
            (f, self._wanted[f])
            for f in dirty
            if f in self._wanted and self._held.get(f) != self._wanted[f]
        )
        for start in range(0, len(change), _PER_SUBSCRIBE):
            chunk = change[start : start + _PER_SUBSCRIBE]
            await client.subscribe_many(chunk)  # a round trip per chunk, not per filter
            self._held.update(chunk)
        for topic_filter in sorted(f for f in dirty if f not in self._wanted and f in self._held):
            await client.unsubscribe(topic_filter)
            del self._held[topic_filter]
