"""Everything that arrives for the chat: presence, and envelopes on our inbox,
decoded, checked against the topic they came on, stored in batches, acknowledged to
the broker once committed, and turned into events. Nothing a peer sends can raise
out of here; a failing store ends the connection with nothing acknowledged."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import assert_never

from mqchat.chat.backend import EventListener
from mqchat.chat.edits import receive_change
from mqchat.chat.inbound_parts import Copies, Replies, Watchlist
from mqchat.chat.outbound import raise_if_cancelled
from mqchat.chat.own_copies import copied_from_elsewhere, own_texts
from mqchat.chat.own_devices import OwnDevices
from mqchat.chat.rooms import Rooms
from mqchat.config.settings import Settings
from mqchat.core import friendship
from mqchat.core.edits import Outcome
from mqchat.core.envelope import (
    Delete,
    Edit,
    Envelope,
    EnvelopeError,
    FriendAccept,
    FriendRequest,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    Unknown,
    parse_envelope,
)
from mqchat.core.events import (
    ChatReceived,
    ContactsChanged,
    DevicesChanged,
    MessageChanged,
    MessageStateChanged,
    PeerTyping,
    PresenceChanged,
    Rejected,
)
from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState, Direction
from mqchat.core.presence import decode_presence
from mqchat.core.room_envelopes import RoomLeave, RoomState, RoomText
from mqchat.core.roster import Roster
from mqchat.core.timing import MAX_SKEW, effective_time
from mqchat.core.topics import TopicKind, inbox_topic, parse_topic
from mqchat.mqtt.errors import MqttError
from mqchat.mqtt.session import Incoming, Session
from mqchat.store import ChatStore, StoreError
from mqchat.store.convert import to_ms

__all__ = ["Inbound", "Replies", "Watchlist"]

log = logging.getLogger("mqchat.chat")

_MAX_BATCH = 200
"""Inbound messages handled (and committed) together at most."""
_ADDRESSED = (TopicKind.INBOX, TopicKind.REQUEST)

_RECEIPT_STATES = {
    ReceiptStatus.DELIVERED: DeliveryState.DELIVERED,
    ReceiptStatus.READ: DeliveryState.READ,
}
"""What a peer's receipt makes of our message."""


class Inbound:
    """Handles the inbound MQTT messages of one user (:meth:`read`, :meth:`handle`).

    It needs ``settings`` (who we are, our namespace, the payload limit), the history
    ``store`` (opened on first use) and the presence ``roster`` it keeps up to date.
    What it produces goes to ``emit`` (every event for the UI, refusals included),
    ``replies`` (receipts and friend accepts) and ``watchlist`` (a stranger who
    writes becomes a contact); it also counts what it refuses (:attr:`rejected`).
    ``clock`` (by default the roster's) says when a text arrived: a text dated too
    far from it is stored at that time instead (:func:`effective_time`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Callable[[], Awaitable[ChatStore]],
        roster: Roster,
        watchlist: Watchlist,
        replies: Replies,
        emit: EventListener,
        clock: Callable[[], datetime] | None = None,
        devices: OwnDevices | None = None,
        rooms: Rooms | None = None,
    ) -> None:
        self._user = settings.user
        self._ns = settings.namespace
        self._max_payload = settings.max_payload
        self._store = store
        self._roster = roster
        self._watchlist = watchlist
        self._replies = replies
        self._emit = emit
        self._devices = devices
        self._rooms = rooms
        self._clock = clock or roster.clock
        # A text may have waited at the broker for as long as our session lives.
        self._max_age = MAX_SKEW + timedelta(seconds=settings.session_expiry)
        self.rejected = 0
        """How many messages were refused so far."""
        self._reasons: set[str] = set()
        # Inbox messages handled lately (see _Copies).
        self._recent: OrderedDict[tuple[str, int], None] = OrderedDict()

    def reject(self, topic: str, reason: str) -> None:
        self.rejected += 1
        if reason not in self._reasons:
            self._reasons.add(reason)
            log.warning("rejected a message on %s: %s", topic, reason)
        self._emit(Rejected(topic, reason, self.rejected))

    async def read(self, session: Session) -> None:
        """Handle what arrives, in batches: while one batch is being stored, the
        next one gathers, so a flood costs a commit per batch, not per message."""
        arrived: asyncio.Queue[Incoming | BaseException] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for message in session.messages():
                    arrived.put_nowait(message)
            except MqttError as exc:
                arrived.put_nowait(exc)

        pumping = asyncio.create_task(pump())
        try:
            while True:
                raise_if_cancelled()
                batch = [await arrived.get()]
                while not arrived.empty() and len(batch) < _MAX_BATCH:
                    batch.append(arrived.get_nowait())
                messages = [m for m in batch if isinstance(m, Incoming)]
                await self._handle_and_acknowledge(session, messages)
                for item in batch:
                    if isinstance(item, BaseException):
                        raise item
        finally:
            pumping.cancel()
            await asyncio.gather(pumping, return_exceptions=True)

    async def _handle_and_acknowledge(self, session: Session, messages: list[Incoming]) -> None:
        if not messages:
            return
        # A StoreError leaves from here: not stored, so not acknowledged; the broker
        # keeps them for the session's next connection.
        await self.handle(messages)
        for message in messages:
            session.ack(message)

    async def handle(self, messages: Sequence[Incoming]) -> None:
        """Handle ``messages`` in order. Consecutive chat texts are stored in one
        transaction, so a burst costs one commit. Raises only what the store raises
        (then none of them may be acknowledged)."""
        texts: list[Text] = []
        copies = Copies(self._recent)
        for message in messages:
            if copies.seen(message):
                continue
            try:
                env = self._decode(message)
                if env is None:
                    continue
                if isinstance(env, Text):
                    texts.append(env)
                    continue
                await self._receive_texts(texts)
                texts = []
                await self._dispatch(env)
            except StoreError:
                raise
            except Exception:  # whatever a peer sends, the connection stays up
                log.exception("failed to handle a message on %s", message.topic)
                self.reject(str(message.topic), "internal error while handling")
        await self._receive_texts(texts)
        copies.keep()

    def _decode(self, message: Incoming) -> Envelope | Unknown | None:
        """The envelope of an inbox message, checked against its topic; presence is
        applied here; ``None`` for everything else (refusals are counted)."""
        topic = str(message.topic)
        parsed = parse_topic(self._ns, topic)
        payload = message.payload if isinstance(message.payload, bytes) else b""
        if parsed is None:
            return None
        if parsed.kind is TopicKind.PRESENCE:
            try:
                presence = decode_presence(parsed.user, payload)
            except EnvelopeError as exc:
                self.reject(topic, f"bad presence: {exc}")
                return None
            shown = self._roster.update(presence, retained=bool(message.retain))
            self._emit(PresenceChanged(shown))
            return None
        if parsed.kind is TopicKind.DEVICE and parsed.user == self._user and parsed.device:
            if self._devices is None:
                return None
            if self._devices.record_arrived(parsed.device, payload):
                self._emit(DevicesChanged(tuple(self._devices.devices.all())))
            else:
                self.reject(topic, "a malformed device record")
            return None
        if parsed.kind not in _ADDRESSED or parsed.user != self._user:
            return None
        if parsed.kind is TopicKind.REQUEST and not payload:
            return None  # a request withdrawn or answered, cleared by its sender
        try:
            env = parse_envelope(payload, max_size=self._max_payload)
        except EnvelopeError as exc:
            self.reject(topic, str(exc))
            return None
        if parsed.kind is TopicKind.REQUEST and not isinstance(env, FriendRequest):
            self.reject(topic, f"a {env.type} on the requests topic")
            return None

        if env.sender != parsed.sender:
            self.reject(topic, f"'from' is {env.sender!r} on {parsed.sender!r}'s topic")
            return None
        if env.recipient != self._user and env.sender != self._user:
            # On our own inbox, from ourselves: a copy of what another of our devices
            # sent to ``recipient`` (chat/own_devices.py).
            self.reject(topic, f"addressed to {env.recipient!r}, not to us")
            return None
        if isinstance(env, Typing) and message.retain:
            # Typing is never published retained: this one was queued while we were
            # away (amqtt queues even QoS 0 and hands the queue over flagged
            # retained), so its sender stopped typing long ago. Any other envelope
            # flagged so is chat as usual.
            return None
        return env

    async def _dispatch(
        self,
        env: Receipt
        | Typing
        | FriendRequest
        | FriendAccept
        | Edit
        | Delete
        | Unknown
        | RoomText
        | RoomState
        | RoomLeave,
    ) -> None:
        match env:
            case Edit() | Delete():
                await self._receive_change(env)  # ours too: from another of our devices
            case RoomText() | RoomState() | RoomLeave():
                why = None if self._rooms is None else await self._rooms.receive(env)
                if why is not None:
                    self.reject(f"{self._ns}/u/{self._user}/inbox/{env.sender}", why)
            case _ if env.sender == self._user:
                await copied_from_elsewhere(
                    await self._store(), env, self._emit, self._note_contact
                )
            case Receipt():
                await self._receive_receipt(env)
            case Typing(sender=sender):
                if self._watchlist.watches(sender):
                    self._emit(PeerTyping(sender))
            case FriendRequest():
                await self._receive_request(env)
            case FriendAccept():
                await self._receive_accept(env)
            case Unknown():
                pass  # a type from a newer version: ignored, not refused
            case _:
                assert_never(env)

    async def _receive_texts(self, texts: list[Text]) -> None:
        if own := [t for t in texts if t.sender == self._user]:
            await own_texts(await self._store(), own, self._emit)
            texts = [t for t in texts if t.sender != self._user]
        if not texts:
            return
        store = await self._store()
        strangers = {t.sender for t in texts if not self._watchlist.watches(t.sender)}
        if strangers and (blocked := await store.dismissals.blocked(strangers)):
            texts = [t for t in texts if t.sender not in blocked]  # dropped unread
            if not texts:
                return
        arrived = self._clock()
        messages = [
            ChatMessage(
                id=env.id,
                peer=env.sender,
                direction=Direction.IN,
                sender=env.sender,
                recipient=env.recipient,
                ts=ts,
                body=env.body,
                state=DeliveryState.RECEIVED,
                claimed_ts=claimed,
            )
            for env in texts
            for ts, claimed in [effective_time(env.ts, arrived, max_age=self._max_age)]
        ]
        added = await store.add_messages(messages)
        shown: set[str] = set()
        for msg in messages:
            if msg.id not in added or msg.id in shown:
                # A redelivery (stored and shown once), or someone reusing another's id.
                known = await store.get_message(msg.id)
                if known is None or known.outgoing or known.sender != msg.sender:
                    continue  # not theirs: no receipt, which would tell them the id exists
            # Also for a redelivery: a crash may have come between storing the
            # message and noting its sender, or sending the receipt.
            await self._note_contact(msg.sender, friendship.on_message(None), None)
            self._replies.queue_receipt(msg.sender, [msg.id], ReceiptStatus.DELIVERED)
            if msg.id in added and msg.id not in shown:
                shown.add(msg.id)
                self._emit(ChatReceived(msg))

    async def _note_contact(
        self, user: str, status_if_new: ContactStatus, name: str | None
    ) -> None:
        if self._watchlist.watches(user):
            return  # a contact already: no query on the path of every message
        store = await self._store()
        if await store.contact(user) is not None:
            return
        contact = await store.add_contact(user, name, status=status_if_new)
        await self._watchlist.watch(user)
        self._emit(ContactsChanged(user, contact))

    async def _receive_request(self, env: FriendRequest) -> None:
        store = await self._store()
        known = await store.contact(env.sender)
        if known is None:
            ignored = await store.dismissals.get(env.sender)
            if ignored is not None and (ignored.blocked or to_ms(env.ts) <= ignored.until_ms):
                return  # blocked, or the very request the user ignored
        status, reply = friendship.on_request(known.status if known else None)
        if known is None:
            await self._note_contact(env.sender, status, env.name)
        elif status is not known.status:
            self._emit(
                ContactsChanged(env.sender, await store.set_contact_status(env.sender, status))
            )
        if reply is friendship.Reply.ACCEPT:
            self._replies.queue_accept(env.sender)

    async def _receive_accept(self, env: FriendAccept) -> None:
        store = await self._store()
        known = await store.contact(env.sender)
        if known is None:
            return
        status = friendship.on_accept(known.status)
        if status is not None and status is not known.status:
            self._emit(
                ContactsChanged(env.sender, await store.set_contact_status(env.sender, status))
            )

    async def _receive_change(self, env: Edit | Delete) -> None:
        store = await self._store()
        arrived = self._clock()
        outcome, message = await receive_change(store, env, arrived=arrived, max_age=self._max_age)
        if outcome is Outcome.NOT_THEIRS and message is not None:
            topic = inbox_topic(self._ns, self._user, env.sender)
            self.reject(topic, f"a {env.type} of {message.sender!r}'s message by {env.sender!r}")
        elif outcome is Outcome.APPLIED and message is not None:
            self._emit(MessageChanged(message))

    async def _receive_receipt(self, env: Receipt) -> None:
        store = await self._store()
        state = _RECEIPT_STATES[env.status]
        # Only the recipient of a message may acknowledge it: our messages to the
        # receipt's sender, all in one transaction.
        for updated in await store.advance_outgoing(env.ids, state, peer=env.sender):
            self._emit(MessageStateChanged(updated.id, updated.peer, updated.state))
        if self._rooms is not None:  # and how far this member got in our rooms
            await self._rooms.receipt(env.sender, env.ids, state)
