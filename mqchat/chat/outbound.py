"""What the chat publishes on its own schedule, one connection at a time: the
outbox in order, then edits and deletes of what it holds, receipts merged per peer,
friend requests and accepts, and the typing indicator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from mqchat.chat.introductions import Introductions
from mqchat.core.envelope import (
    Envelope,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    encode_envelope,
)
from mqchat.core.events import Event, MessageStateChanged
from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.core.receipts import ReceiptQueue
from mqchat.core.rooms import is_room_key
from mqchat.core.tasks import all_done
from mqchat.core.topics import inbox_topic
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.store import ChatStore

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

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
IN_FLIGHT = 16
"""Outbox messages published and not yet acknowledged, at most (paho sends up to 20
at once and queues the rest): a burst costs a PUBACK round trip per window, not per
message. The broker keeps the order of one client's QoS 1 messages, so the peer
still gets them in the order they were typed."""


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
        copies: Callable[[], bool] = lambda: False,
        fan_out: Callable[[ChatMessage], list[tuple[str, bytes]]] = lambda msg: [],
        fan_out_change: Callable[[str, bytes], list[tuple[str, bytes]]] = lambda k, p: [],
        sealed_for: Callable[[str], bool] = lambda peer: True,
    ) -> None:
        self._user = user
        self._copies = copies
        self._fan_out = fan_out
        self._fan_out_change = fan_out_change
        """Whether what we send is copied to the user's own inbox, for their other
        devices (chat/own_devices.py)."""
        self._copying: set[asyncio.Future[None]] = set()
        self._ns = namespace
        self._name = display_name
        self._store = store
        self._emit = emit
        self._clock = clock
        self._wake = asyncio.Event()
        self._receipts = ReceiptQueue()
        self.introductions = Introductions(
            user=user,
            namespace=namespace,
            display_name=display_name,
            store=store,
            wake=self._wake.set,
            sealed_for=sealed_for,
        )
        self._typing_sent: dict[str, float] = {}
        # The outbox in memory, oldest first, so a send costs no query; the store
        # stays the truth and refills it at every connection.
        self._outbox: dict[str, ChatMessage] = {}
        self._payloads: dict[str, bytes] = {}  # envelopes of outbox messages, encoded
        self._client: Session | None = None
        # Outbox messages published on this connection and not answered yet, oldest
        # first, with when they went.
        self._in_flight: dict[str, tuple[ChatMessage, float]] = {}
        self._strikes: dict[str, int] = {}
        # Messages in flight together when a connection dropped: one of them may be
        # why, so each goes alone until it is through (see connection_lost).
        self._alone: set[str] = set()
        # Edits and deletes to publish once the outbox before them is through, so
        # each reaches the peer after its target: change id -> (peer, envelope).
        self._changes: dict[str, tuple[str, bytes]] = {}

    def queue_message(self, msg: ChatMessage, payload: bytes | None = None) -> None:
        """``msg`` is stored as pending: publish it after everything before it.
        ``payload``: its envelope's bytes, when the caller has them already."""
        self._outbox[msg.id] = msg
        if payload is not None:
            self._payloads[msg.id] = payload
        self._wake.set()

    def queue_change(self, msg: ChatMessage, change_id: str, payload: bytes) -> None:
        """``msg`` was just edited or deleted by us: publish the change (``payload``)
        after the outbox. If ``msg`` itself waits in the outbox, unpublished, it goes
        as it is now: a deleted one not at all, an edited one with its new body."""
        if msg.id in self._outbox and msg.id not in self._in_flight:
            self._payloads.pop(msg.id, None)
            if msg.deleted:
                del self._outbox[msg.id]
            else:
                self._outbox[msg.id] = msg
        self._changes[change_id] = (msg.peer, payload)
        self._wake.set()

    def queue_requests(self) -> None:
        """The store has a friend request to send."""
        self.introductions.requests()
        self._wake.set()

    def queue_receipt(self, peer: str, ids: list[str], status: ReceiptStatus) -> None:
        self._receipts.add(peer, status, ids)
        self._wake.set()

    def queue_clear_request(self, peer: str) -> None:
        """Our retained request to ``peer`` is answered (or withdrawn): clear it."""
        self.introductions.clear_request(peer)
        self._wake.set()

    def queue_accept(self, peer: str) -> None:
        self.introductions.accept(peer)
        self._wake.set()

    def wake(self) -> None:
        """Look again at what waits (a peer's keys came, say)."""
        self._wake.set()

    async def run(self, client: Session) -> None:
        """Publish whatever waits, then whatever comes, until cancelled. Raises
        :class:`~mqchat.mqtt.errors.MqttError` when the connection fails under it."""
        self._client = client
        self._in_flight = {}
        store = await self._store()
        stored = {msg.id: msg for msg in await store.pending_outgoing()}
        self._outbox = stored | self._outbox  # those stored first, in the store's order
        changes = {cid: (peer, data) for cid, peer, data in await store.outgoing_changes()}
        self._changes = changes | self._changes
        self.introductions.requests()
        self._wake.set()
        try:
            while True:
                raise_if_cancelled()
                await self._wake.wait()
                self._wake.clear()
                await self.introductions.publish(client, self._publish_dropping_refusal)
                await self._publish_receipts(client)
                await self._publish_outbox(client)
                await self._publish_changes(client)
        finally:
            self._client = None

    async def connection_lost(self, error: MqttError) -> None:
        """The connection failed: if it failed on a message being published, that
        message may be why (see :data:`STRIKES`). With several in flight the oldest
        takes the strike, and all of them go one at a time on the next connections
        until each is through, so the one the broker will not take is found alone."""
        in_flight, self._in_flight = list(self._in_flight.values()), {}
        if not in_flight:
            return
        if len(in_flight) > 1:
            self._alone |= {msg.id for msg, _since in in_flight}
        msg, since = in_flight[0]
        if error.code == _PACKET_TOO_LARGE:
            if len(in_flight) == 1:
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
        self._payloads.pop(msg.id, None)
        self._strikes.pop(msg.id, None)
        self._alone.discard(msg.id)
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
        copied = not isinstance(env, Receipt) or env.status is ReceiptStatus.READ
        if copied:
            self._copy(client, encode_envelope(env))

    def _copy(self, client: Session, payload: bytes) -> None:
        """``payload``, sent to a peer, also to the user's other devices (QoS 1 on
        our own inbox), if they have any. Not awaited: a copy that fails (the
        connection went) is sent again with its message, and stored once."""
        if not self._copies():
            return
        copy = client.publish_soon(inbox_topic(self._ns, self._user, self._user), payload)
        self._copying.add(copy)
        copy.add_done_callback(self._copied)

    def _copied(self, copy: asyncio.Future[None]) -> None:
        self._copying.discard(copy)
        if not copy.cancelled() and (error := copy.exception()) is not None:
            log.warning("a copy for our other devices was not sent: %s", error)

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
        """Pending messages, oldest first, up to :data:`IN_FLIGHT` at a time; the
        PUBACKs that came together are marked ``sent`` in one transaction. A message
        the broker refuses fails without holding up the others; a failing
        connection leaves every unanswered one pending, for the next connection."""
        window: dict[str, asyncio.Future[None]] = {}
        try:
            while True:
                self._fill(client, window)
                if not window:
                    return
                # PUBACKs come in the order of the PUBLISHes: wait for the oldest, then
                # take every one answered by now.
                await asyncio.wait([next(iter(window.values()))])
                answered: list[tuple[ChatMessage, asyncio.Future[None]]] = []
                for mid, task in list(window.items()):
                    if not task.done():
                        break
                    del window[mid]  # it stays in _in_flight until settled
                    answered.append((self._in_flight[mid][0], task))
                self._fill(client, window)  # keep publishing while we store the states
                await self._settle(answered)
        finally:
            for task in window.values():
                task.cancel()
            await asyncio.gather(*window.values(), return_exceptions=True)

    async def _publish_changes(self, client: Session) -> None:
        """Edits and deletes, in the order they were made, each forgotten by the store
        once acknowledged; one the broker refuses is dropped (it would be refused
        again), one a lost connection interrupts waits for the next connection."""
        for change_id, (peer, payload) in list(self._changes.items()):
            to = self._fan_out_change(peer, payload) if is_room_key(peer) else [(peer, payload)]
            for member, data in to:
                if member == self._user and not self._copies():
                    continue
                try:
                    await client.publish(inbox_topic(self._ns, member, self._user), data)
                except PublishRefused as exc:
                    log.warning("the broker refused a change to %s: %s", member, exc.reason)
            if not is_room_key(peer):
                self._copy(client, payload)
            await (await self._store()).change_sent(change_id)
            self._changes.pop(change_id, None)

    def _fill(self, client: Session, window: dict[str, asyncio.Future[None]]) -> None:
        """Publish the next messages of the outbox, in order, while there is room:
        each is handed to paho at once, so they go out in that order."""
        for msg in self._outbox.values():  # nothing here changes the outbox
            if len(window) >= IN_FLIGHT:
                return
            if msg.id in self._in_flight:
                continue  # in the window, or answered and being settled
            alone = self._alone and (msg.id in self._alone or not self._alone.isdisjoint(window))
            if alone and window:
                return  # it goes alone (or one does): after those in flight are answered
            self._in_flight[msg.id] = (msg, time.monotonic())
            window[msg.id] = self._publish_message(client, msg)
            if alone:
                return

    def _publish_message(self, client: Session, msg: ChatMessage) -> asyncio.Future[None]:
        """Hand ``msg`` to paho: to its peer (a copy to our other devices), or to
        every member of its room (:meth:`Rooms.fan_out`); done when all are."""
        if is_room_key(msg.peer):
            copies = [
                client.publish_soon(inbox_topic(self._ns, member, self._user), payload)
                for member, payload in self._fan_out(msg)
                if member != self._user or self._copies()
            ]
            return asyncio.ensure_future(all_done(copies))
        payload = self._payloads.get(msg.id) or encode_envelope(
            Text.new(self._user, msg.peer, msg.body, id=msg.id, ts=msg.ts)
        )
        topic = inbox_topic(self._ns, msg.peer, self._user)
        self._copy(client, payload)
        return client.publish_soon(topic, payload)

    async def _settle(self, answered: list[tuple[ChatMessage, asyncio.Future[None]]]) -> None:
        """Mark the acknowledged messages ``sent`` (one commit), fail the refused ones;
        a failed connection is raised once the ones answered before it are stored."""
        sent: list[ChatMessage] = []
        lost: BaseException | None = None
        for msg, task in answered:
            error = task.exception() if not task.cancelled() else asyncio.CancelledError()
            if error is None:
                sent.append(msg)
            elif isinstance(error, PublishRefused):
                # Sending it again would be refused again: it failed, and says why.
                del self._in_flight[msg.id]
                await self._fail(msg, f"the broker refused it: {error.reason.lower()}")
            elif lost is None:
                lost = error  # it, and those after it, stay in flight for connection_lost
        for msg in sent:
            del self._in_flight[msg.id]
            self._strikes.pop(msg.id, None)
            self._alone.discard(msg.id)
            self._outbox.pop(msg.id, None)
            self._payloads.pop(msg.id, None)
        if sent:
            store = await self._store()
            for updated in await store.advance_outgoing([m.id for m in sent], DeliveryState.SENT):
                self._emit(MessageStateChanged(updated.id, updated.peer, updated.state))
        if lost is not None:
            raise lost
