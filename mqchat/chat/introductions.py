"""Friend requests, accepts, and clearing our answered requests, as the outbox
publishes them (docs/protocol.md#friend-requests).

A request carries our display name. To a user whose keys we do not know yet it waits
up to :data:`KEY_GRACE_S` for them, so it goes sealed (protocol v3) whenever the peer
runs a version that has keys: two people starting mqchat at the same moment would
otherwise introduce themselves in plain text. Then it goes as it can."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mqchat.core.envelope import Envelope, FriendAccept, FriendRequest, encode_envelope
from mqchat.core.topics import request_topic
from mqchat.mqtt.errors import PublishRefused
from mqchat.store import ChatStore

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

log = logging.getLogger(__name__)

__all__ = ["KEY_GRACE_S", "Introductions"]

KEY_GRACE_S = 5.0
"""How long a friend request waits for the peer's keys before it goes unsealed."""


class Introductions:
    """What the outbox owes peers by way of introduction (:meth:`publish`)."""

    def __init__(
        self,
        *,
        user: str,
        namespace: str,
        display_name: str,
        store: Callable[[], Awaitable[ChatStore]],
        wake: Callable[[], None],
        sealed_for: Callable[[str], bool] = lambda peer: True,
    ) -> None:
        self._user = user
        self._ns = namespace
        self._name = display_name
        self._store = store
        self._wake = wake
        self._sealed_for = sealed_for
        self._accepts: dict[str, None] = {}
        self._cleared: dict[str, None] = {}  # peers whose retained request of ours goes
        self._requests_due = True
        self._waiting_since: dict[str, float] = {}  # requests waiting for keys
        self._look_again: asyncio.TimerHandle | None = None  # when the first grace ends

    def requests(self) -> None:
        """The store has a friend request to send (or a new connection: look)."""
        self._requests_due = True

    def clear_request(self, peer: str) -> None:
        """Our retained request to ``peer`` is answered (or withdrawn): clear it."""
        self._cleared[peer] = None

    def accept(self, peer: str) -> None:
        self._accepts[peer] = None

    async def publish(
        self, client: Session, send: Callable[[Session, str, Envelope], Awaitable[None]]
    ) -> None:
        """Accepts, cleared requests, then requests; ``send`` publishes an envelope
        to a peer's inbox (dropping what the broker refuses)."""
        for peer in list(self._accepts):
            await send(client, peer, FriendAccept.new(self._user, peer, name=self._name))
            self._accepts.pop(peer, None)
        for peer in list(self._cleared):
            topic = request_topic(self._ns, peer, self._user)
            with contextlib.suppress(PublishRefused):
                await client.publish(topic, b"", qos=1, retain=True, json=False)
            self._cleared.pop(peer, None)
        await self._publish_requests(client, send)

    async def _publish_requests(
        self, client: Session, send: Callable[[Session, str, Envelope], Awaitable[None]]
    ) -> None:
        """Each request twice: retained on the peer's requests topic, where it waits
        for them however long they are away (one per sender: a later one replaces
        it), and on their inbox for a peer of protocol version 1."""
        if not self._requests_due:
            return
        self._requests_due = False
        store = await self._store()
        for contact in await store.requests_to_send():
            peer = contact.user
            if not self._sealed_for(peer):
                since = self._waiting_since.setdefault(peer, time.monotonic())
                if (left := since + KEY_GRACE_S - time.monotonic()) > 0:
                    self._requests_due = True  # when keys come, or the grace ends
                    self._wake_in(left)
                    continue
            self._waiting_since.pop(peer, None)
            env = FriendRequest.new(self._user, peer, name=self._name)
            try:
                topic = request_topic(self._ns, peer, self._user)
                await client.publish(topic, encode_envelope(env), qos=1, retain=True)
            except PublishRefused as exc:  # an ACL from before requests topics
                log.warning("the broker refused a request to %s: %s", peer, exc.reason)
            await send(client, peer, env)
            await store.mark_request_sent(peer)

    def _wake_in(self, seconds: float) -> None:
        """Look again in ``seconds`` (one timer however often the outbox looks)."""
        loop = asyncio.get_running_loop()
        now, pending = loop.time(), self._look_again
        if pending is not None and now < pending.when() <= now + seconds:
            return  # one is due sooner
        if pending is not None:
            pending.cancel()
        self._look_again = loop.call_at(now + seconds, self._wake)
