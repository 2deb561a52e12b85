"""What the chat publishes on its own schedule, one connection at a time: the
outbox in order, receipts merged per peer, friend requests and accepts, and the
typing indicator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from mqchat.core.envelope import (
    Envelope,
    FriendAccept,
    FriendRequest,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    encode_envelope,
)
from mqchat.core.events import Event, MessageStateChanged
from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.core.receipts import ReceiptQueue
from mqchat.core.topics import inbox_topic, request_topic
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.mqtt.session import Session
from mqchat.store import ChatStore

log = logging.getLogger(__name__)

__all__ = ["TYPING_INTERVAL_S", "Outbound", "raise_if_cancelled"]

TYPING_INTERVAL_S = 3.0
"""At most one typing envelope per peer this often; receivers show it a while longer."""

_PACKET_TOO_LARGE = 0x95
"""An MQTT 5 DISCONNECT's reason: the packet we sent was larger than the broker takes."""
QUICK_DROP_S = 2.0
STRIKES = 3
"""A message in flight when the broker closed the connection within QUICK_DROP_S of
its sending, STRIKES times, is one the broker will not take (MQTT 3.1.1 brokers say
no more than that): it fails, so it no longer blocks those behind it."""


def raise_if_cancelled() -> None:
    """Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's publish) can swallow a
    cancellation that lands as the PUBACK arrives; the task then carries on as if
    nothing happened. Checked once per loop, so such a task still stops."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Outbound:
    """Publishes for the chat while a connection is up (:meth:`run`); keeps what it
    could not publish for the next connection."""

    def __init__(
        self,
        *,
        user: str,
        namespace: str,
        display_name: str,
        store: Callable[[], Awaitable[ChatStore]],
        emit: Callable[[Event], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._user = user
        self._ns = namespace
        self._name = display_name
        self._store = store
        self._emit = emit
        self._clock = clock
        self._wake = asyncio.Event()
        self._receipts = ReceiptQueue()
        self._accepts: dict[str, None] = {}
        self._cleared: dict[str, None] = {}  # peers whose retained request of ours goes
        self._typing_sent: dict[str, float] = {}
        # The outbox in memory, oldest first, so a send costs no query; the store
        # stays the truth and refills it at every connection.
        self._outbox: dict[str, ChatMessage] = {}
        self._requests_due = True
        self._client: Session | None = None
        self._in_flight: tuple[ChatMessage, float] | None = None  # and when it went
        self._strikes: dict[str, int] = {}

    def queue_message(self, msg: ChatMessage) -> None:
        """``msg`` is stored as pending: publish it after everything before it."""
        self._outbox[msg.id] = msg
        self._wake.set()

    def queue_requests(self) -> None:
        """The store has a friend request to send."""
        self._requests_due = True
        self._wake.set()

    def queue_receipt(self, peer: str, ids: list[str], status: ReceiptStatus) -> None:
        self._receipts.add(peer, status, ids)
        self._wake.set()

    def queue_clear_request(self, peer: str) -> None:
        """Our retained request to ``peer`` is answered (or withdrawn): clear it."""
        self._cleared[peer] = None
        self._wake.set()

    def queue_accept(self, peer: str) -> None:
        self._accepts[peer] = None
        self._wake.set()

    async def run(self, client: Session) -> None:
        """Publish whatever waits, then whatever comes, until cancelled. Raises
        :class:`~mqchat.mqtt.errors.MqttError` when the connection fails under it."""
        self._client = client
        self._in_flight = None
        store = await self._store()
        stored = {msg.id: msg for msg in await store.pending_outgoing()}
        self._outbox = stored | self._outbox  # those stored first, in the store's order
        self._requests_due = True
        self._wake.set()
        try:
            while True:
                raise_if_cancelled()
                await self._wake.wait()
                self._wake.clear()
                await self._publish_accepts(client)
                await self._clear_requests(client)
                await self._publish_requests(client)
                await self._publish_receipts(client)
                await self._publish_outbox(client)
        finally:
            self._client = None

    async def connection_lost(self, error: MqttError) -> None:
        """The connection failed: if it failed on a message being published, that
        message may be why (see :data:`STRIKES`)."""
        if self._in_flight is None:
            return
        msg, since = self._in_flight
        self._in_flight = None
        if error.code == _PACKET_TOO_LARGE:
            await self._fail(msg, "the broker refused it: too large (packet too large)")
            return
        if time.monotonic() - since > QUICK_DROP_S:
            return
        strikes = self._strikes[msg.id] = self._strikes.get(msg.id, 0) + 1
        if strikes >= STRIKES:
            await self._fail(
                msg,
                f"the broker closed the connection each of the {strikes} times it was "
                "sent (too large for it?)",
            )

    async def _fail(self, msg: ChatMessage, why: str) -> None:
        self._outbox.pop(msg.id, None)
        self._strikes.pop(msg.id, None)
        log.warning("message %s failed: %s", msg.id, why)
        failed = await (await self._store()).set_state(msg.id, DeliveryState.FAILED)
        if failed is not None:
            self._emit(MessageStateChanged(msg.id, msg.peer, failed.state, why))

    async def typing(self, peer: str) -> None:
        client = self._client
        now = time.monotonic()
        if client is None or now - self._typing_sent.get(peer, -TYPING_INTERVAL_S) < (
            TYPING_INTERVAL_S
        ):
            return
        self._typing_sent[peer] = now
        env = Typing.new(self._user, peer, ts=self._clock())
        with contextlib.suppress(MqttError):  # a lost typing hint is no loss
            await self._publish(client, peer, env, qos=0)

    async def _publish(self, client: Session, peer: str, env: Envelope, *, qos: int = 1) -> None:
        await client.publish(inbox_topic(self._ns, peer, self._user), encode_envelope(env), qos=qos)

    async def _publish_dropping_refusal(self, client: Session, peer: str, env: Envelope) -> None:
        """A control message the broker refuses would be refused again: drop it."""
        try:
            await self._publish(client, peer, env)
        except PublishRefused as exc:
            log.warning("the broker refused a %s to %s: %s", env.type, peer, exc.reason)

    async def _publish_accepts(self, client: Session) -> None:
        for peer in list(self._accepts):
            env = FriendAccept.new(self._user, peer, name=self._name)
            await self._publish_dropping_refusal(client, peer, env)
            self._accepts.pop(peer, None)

    async def _publish_requests(self, client: Session) -> None:
        """Each request twice: retained on the peer's requests topic, where it waits
        for them however long they are away (one per sender: a later one replaces
        it), and on their inbox for a peer of protocol version 1."""
        if not self._requests_due:
            return
        self._requests_due = False
        store = await self._store()
        for contact in await store.requests_to_send():
            env = FriendRequest.new(self._user, contact.user, name=self._name)
            topic = request_topic(self._ns, contact.user, self._user)
            try:
                await client.publish(topic, encode_envelope(env), qos=1, retain=True)
            except PublishRefused as exc:  # an ACL from before requests topics
                log.warning("the broker refused a request to %s: %s", contact.user, exc.reason)
            await self._publish_dropping_refusal(client, contact.user, env)
            await store.mark_request_sent(contact.user)

    async def _clear_requests(self, client: Session) -> None:
        for peer in list(self._cleared):
            topic = request_topic(self._ns, peer, self._user)
            with contextlib.suppress(PublishRefused):
                await client.publish(topic, b"", qos=1, retain=True, json=False)
            self._cleared.pop(peer, None)

    async def _publish_receipts(self, client: Session) -> None:
        batches = self._receipts.take()
        for index, (peer, status, ids) in enumerate(batches):
            env = Receipt.new(self._user, peer, ids, status, ts=self._clock())
            try:
                await self._publish_dropping_refusal(client, peer, env)
            except BaseException:
                self._receipts.put_back(batches[index:])
                raise

    async def _publish_outbox(self, client: Session) -> None:
        """Pending messages, oldest first; each waits for its PUBACK before the next,
        so the peer receives them in the order they were typed."""
        store = await self._store()
        while self._outbox:
            msg = next(iter(self._outbox.values()))
            env = Text.new(self._user, msg.peer, msg.body, id=msg.id, ts=msg.ts)
            self._in_flight = (msg, time.monotonic())
            try:
                await self._publish(client, msg.peer, env)  # if the link fails, it stays
            except PublishRefused as exc:
                # Sending it again would be refused again: it failed, and says why.
                self._in_flight = None
                await self._fail(msg, f"the broker refused it: {exc.reason.lower()}")
                continue
            self._in_flight = None
            self._strikes.pop(msg.id, None)
            del self._outbox[msg.id]
            updated = await store.set_state(msg.id, DeliveryState.SENT)
            if updated is not None:
                self._emit(MessageStateChanged(msg.id, msg.peer, updated.state))
