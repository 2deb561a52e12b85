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
from typing import TYPE_CHECKING, assert_never

from mqchat.chat.backend import EventListener
from mqchat.chat.edits import receive_change
from mqchat.chat.encryption import Encryption
from mqchat.chat.encryption_parts import WAIT, Refused, Wait
from mqchat.chat.friend_requests import receive_accept, receive_request
from mqchat.chat.inbound_parts import REPLAYED, Copies, Replies, Seen, Watchlist, replay_notice
from mqchat.chat.inbound_texts import receive_texts
from mqchat.chat.outbound import raise_if_cancelled
from mqchat.chat.own_copies import copied_from_elsewhere, own_texts
from mqchat.chat.own_devices import OwnDevices
from mqchat.chat.rooms import Rooms
from mqchat.config.settings import Settings
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
    Sealed,
    Text,
    Typing,
    Unknown,
    parse_envelope,
    sealed_limit,
)
from mqchat.core.events import (
    ContactsChanged,
    DevicesChanged,
    MessageChanged,
    MessageStateChanged,
    Notice,
    PeerTyping,
    PresenceChanged,
    Rejected,
)
from mqchat.core.model import ContactStatus, DeliveryState
from mqchat.core.presence import decode_presence
from mqchat.core.room_envelopes import RoomLeave, RoomState, RoomText
from mqchat.core.roster import Roster
from mqchat.core.timing import MAX_SKEW
from mqchat.core.topics import TopicKind, inbox_topic, parse_topic
from mqchat.mqtt.errors import MqttError
from mqchat.mqtt.incoming import Incoming
from mqchat.store import ChatStore, StoreError

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["Inbound", "Replies", "Watchlist"]

log = logging.getLogger("mqchat.chat")

KEY_WAIT_S = 5.0
"""How long a message sealed by a device whose keys have not come waits for them."""
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
        encryption: Encryption | None = None,
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
        self._crypto = encryption
        self._keys_came = False  # since the messages put aside were last tried
        self._clock = clock or roster.clock
        # A text may have waited at the broker for as long as our session lives.
        self._max_age = MAX_SKEW + timedelta(seconds=settings.session_expiry)
        self.rejected = 0
        """How many messages were refused so far."""
        self._reasons: set[str] = set()
        self._recent: Seen = OrderedDict()

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
        # Sealed by devices whose keys have not come (not acknowledged): retried in order
        # when keys come, refused KEY_WAIT_S after the first of them.
        waiting: list[Incoming] = []
        loop, given_up_at = asyncio.get_running_loop(), 0.0
        try:
            while True:
                raise_if_cancelled()
                try:
                    async with asyncio.timeout_at(given_up_at if waiting else None):
                        batch = [await arrived.get()]
                except TimeoutError:
                    await self._handle_and_acknowledge(session, waiting, final=True)
                    waiting = []
                    continue
                while not arrived.empty() and len(batch) < _MAX_BATCH:
                    batch.append(arrived.get_nowait())
                self._keys_came = False
                messages = [m for m in batch if isinstance(m, Incoming)]
                if not waiting:
                    given_up_at = loop.time() + KEY_WAIT_S
                waiting += await self._handle_and_acknowledge(session, messages)
                if waiting and self._keys_came:
                    waiting = await self._handle_and_acknowledge(session, waiting)
                for item in batch:
                    if isinstance(item, BaseException):
                        raise item
        finally:
            pumping.cancel()
            await asyncio.gather(pumping, return_exceptions=True)

    async def _handle_and_acknowledge(
        self, session: Session, messages: list[Incoming], *, final: bool = False
    ) -> list[Incoming]:
        if not messages:
            return []
        # A StoreError leaves from here: nothing stored, nothing acknowledged (kept).
        waiting = await self.handle(messages, final=final)
        for message in messages:
            if message not in waiting:
                session.ack(message)
        return waiting

    async def handle(self, messages: Sequence[Incoming], *, final: bool = True) -> list[Incoming]:
        """Handle ``messages`` in order. Consecutive chat texts are stored in one
        transaction, so a burst costs one commit. Returns those sealed by a device
        whose keys have not come, unless ``final`` (then they are refused). Raises
        only what the store raises (then none of them may be acknowledged)."""
        texts: list[Text] = []
        copies = Copies(self._recent)
        waiting: list[Incoming] = []
        for message in messages:
            if copies.seen(message):
                continue
            try:
                env = await self._decode(message, final=final)
                if env is WAIT:
                    copies.unsee(message)
                    waiting.append(message)
                    continue
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
        for replayed in copies.replays:
            self.reject(replayed.topic, REPLAYED)
            if notice := replay_notice(replayed):
                self._emit(notice)
        return waiting

    async def _decode(self, message: Incoming, *, final: bool) -> Envelope | Unknown | Wait | None:
        """The envelope of an inbox message, checked against its topic and opened if
        sealed; presence and keys are applied here; ``None`` for everything else
        (refusals are counted), :data:`_WAIT` for one to try again later."""
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
        if parsed.kind is TopicKind.KEYS and parsed.device:
            if self._crypto is not None:
                why = await self._crypto.record_arrived(parsed.user, parsed.device, payload)
                self._keys_came = True
                if why is not None:
                    self.reject(topic, why)
            return None
        if parsed.kind not in _ADDRESSED or parsed.user != self._user:
            return None
        if parsed.kind is TopicKind.REQUEST and not payload:
            return None  # a request withdrawn or answered, cleared by its sender
        too_large = f"payload of {len(payload)} bytes exceeds the {self._max_payload}-byte limit"
        try:
            env = parse_envelope(payload, max_size=sealed_limit(self._max_payload))
        except EnvelopeError as exc:
            env = None
            self.reject(topic, str(exc) if len(payload) <= self._max_payload else too_large)
        if len(payload) > self._max_payload and not isinstance(env, Sealed | None):
            self.reject(topic, too_large)  # only a sealed envelope may be larger
            return None
        if env is None:
            return None
        if env.sender != parsed.sender:
            self.reject(topic, f"'from' is {env.sender!r} on {parsed.sender!r}'s topic")
            return None
        if env.recipient != self._user and env.sender != self._user:
            # On our own inbox, from ourselves: a copy of what another of our devices
            # sent to ``recipient`` (chat/own_devices.py).
            self.reject(topic, f"addressed to {env.recipient!r}, not to us")
            return None
        opened = await self._unseal(topic, env, final=final)
        requests = parsed.kind is TopicKind.REQUEST and isinstance(opened, Envelope | Unknown)
        if requests and not isinstance(opened, FriendRequest | Wait):
            self.reject(topic, f"a {opened.type} on the requests topic")  # type: ignore[union-attr]
            return None
        if isinstance(opened, Typing) and message.retain:
            # Typing is never published retained: this one was queued while we were away
            # (amqtt flags its queue so), its sender long done. Other envelopes are chat.
            return None
        return opened

    async def _unseal(
        self, topic: str, env: Envelope | Sealed | Unknown, *, final: bool
    ) -> Envelope | Unknown | Wait | None:
        """``env`` opened, if sealed; refused (and shown) if it must not be taken."""
        try:
            if self._crypto is None:
                if isinstance(env, Sealed):
                    raise Refused("a sealed message, and this device has no keys")
                return env
            return await self._crypto.unwrap(env, final=final, max_size=self._max_payload)
        except Refused as exc:
            self.reject(topic, str(exc))
            if not exc.quiet:
                self._emit(Notice(f"⚠ Refused a message from {env.sender}", str(exc), "error"))
            return None

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
                await receive_request(
                    await self._store(),
                    env,
                    note_contact=self._note_contact,
                    replies=self._replies,
                    emit=self._emit,
                )
            case FriendAccept():
                await receive_accept(await self._store(), env, self._emit)
            case Unknown():
                pass  # a type from a newer version: ignored, not refused
            case _:
                assert_never(env)

    async def _receive_texts(self, texts: list[Text]) -> None:
        if own := [t for t in texts if t.sender == self._user]:
            await own_texts(await self._store(), own, self._emit)
            texts = [t for t in texts if t.sender != self._user]
        if texts:
            await receive_texts(
                await self._store(),
                texts,
                arrived=self._clock(),
                max_age=self._max_age,
                watchlist=self._watchlist,
                replies=self._replies,
                note_contact=self._note_contact,
                emit=self._emit,
            )

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
        # Only a message's recipient acknowledges it; all in one transaction.
        for updated in await store.advance_outgoing(env.ids, state, peer=env.sender):
            self._emit(MessageStateChanged(updated.id, updated.peer, updated.state))
        if self._rooms is not None:  # and how far this member got in our rooms
            await self._rooms.receipt(env.sender, env.ids, state)
