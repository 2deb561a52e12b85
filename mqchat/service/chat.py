"""The chat backend on aiomqtt: one connection per running app, kept up with backoff;
per-user topics, retained presence with a Will, QoS 1 envelopes and receipts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import aiomqtt

from mqchat.backend import ChatBackend, EventListener
from mqchat.domain import (
    ChatMessage,
    ChatReceived,
    ConnectionChanged,
    ConnectionState,
    Contact,
    ContactSummary,
    DeliveryState,
    Direction,
    Event,
    InvalidUserName,
    MessageStateChanged,
    Presence,
    PresenceChanged,
    PresenceState,
    Rejected,
    utc_now,
    validate_user_name,
)
from mqchat.envelope import Envelope, EnvelopeError, decode_presence, encode_presence
from mqchat.service.backoff import Backoff
from mqchat.service.connection import describe_failure, json_properties, make_client
from mqchat.service.outgoing import prepare_text
from mqchat.service.roster import Roster
from mqchat.settings import Settings
from mqchat.store import ChatStore
from mqchat.topics import (
    TopicKind,
    inbox_filter,
    inbox_topic,
    parse_topic,
    presence_filter,
    presence_topic,
)

__all__ = ["ChatService"]

log = logging.getLogger("mqchat.service")

_STOP_TIMEOUT = 5.0


class ChatService(ChatBackend):
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.user = validate_user_name(settings.user)
        self.display_name = settings.name
        self.broker_label = settings.broker.label
        self._ns = settings.namespace
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._listener: EventListener | None = None
        self._state = ConnectionState.IDLE
        self._rejected = 0
        self._rejected_reasons: set[str] = set()
        self._roster = Roster(clock)
        self._store: ChatStore | None = None
        self._store_lock = asyncio.Lock()
        self._client: aiomqtt.Client | None = None
        self._watched: set[str] = set()  # users whose presence we subscribe to
        self._watch_roster = False
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._run_task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()  # keeps the outbox flush and new sends in order

    # -- contract: state and events -------------------------------------------------

    def set_listener(self, listener: EventListener | None) -> None:
        self._listener = listener

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    @property
    def rejected_count(self) -> int:
        return self._rejected

    def _emit(self, event: Event) -> None:
        if self._listener is None:
            return
        try:
            self._listener(event)
        except Exception:  # a broken listener must not take the connection down
            log.exception("event listener failed on %r", event)

    def _set_state(
        self, state: ConnectionState, detail: str = "", retry_in: float | None = None
    ) -> None:
        self._state = state
        self._emit(ConnectionChanged(state, detail, retry_in))

    # -- store ------------------------------------------------------------------------

    async def store(self) -> ChatStore:
        """The user's database, opened on first use."""
        async with self._store_lock:
            if self._store is None:
                self._store = await ChatStore.open(self.settings.database)
            return self._store

    # -- connection loop --------------------------------------------------------------

    async def run(self) -> None:
        self._running = True
        self._run_task = asyncio.current_task()
        self._stopped.clear()
        try:
            store = await self.store()
            # a union: add_contact may already have run while the contacts loaded
            self._watched |= {c.user for c in await store.contacts()}
            while not self._stop.is_set():
                self._set_state(ConnectionState.CONNECTING, f"connecting to {self.broker_label}")
                try:
                    await self._connected_session()
                except aiomqtt.MqttError as exc:
                    failure = describe_failure(exc, self.settings)
                    if failure.fatal:
                        self._set_state(ConnectionState.FAILED, failure.reason)
                        return
                    if self._stop.is_set():
                        break
                    delay = self._backoff.next_delay()
                    self._set_state(ConnectionState.RETRYING, failure.reason, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay)
            self._set_state(ConnectionState.CLOSED, "disconnected")
        finally:
            self._client = None
            self._running = False
            self._stopped.set()

    async def _connected_session(self) -> None:
        will = aiomqtt.Will(
            presence_topic(self._ns, self.user),
            encode_presence(PresenceState.OFFLINE, name=self.display_name, lost=True),
            qos=1,
            retain=True,
        )
        async with make_client(self.settings, will=will) as client:
            subscribed: set[str] = set()
            await self._subscribe_missing(client, subscribed)
            await self._publish_presence(client, PresenceState.ONLINE)
            self._client = client
            # Contacts added while we were subscribing found no client to subscribe
            # with; from here on add_contact subscribes by itself.
            await self._subscribe_missing(client, subscribed)
            self._backoff.reset()
            self._set_state(ConnectionState.CONNECTED, f"connected to {self.broker_label}")
            reader = asyncio.create_task(self._read(client))
            flusher = asyncio.create_task(self._flush_outbox())
            stopper = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._client = None
                for task in (reader, flusher, stopper):
                    task.cancel()
                await asyncio.gather(reader, flusher, stopper, return_exceptions=True)
            error = None if reader.cancelled() else reader.exception()
            if error is not None:
                raise error
            if self._stop.is_set():
                # A clean quit: say goodbye ourselves, since the broker sends no Will now.
                with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                    await asyncio.wait_for(
                        self._publish_presence(client, PresenceState.OFFLINE), _STOP_TIMEOUT
                    )

    def _wanted_subscriptions(self) -> set[str]:
        wanted = {inbox_filter(self._ns, self.user)}
        wanted.update(presence_topic(self._ns, user) for user in self._watched)
        if self._watch_roster:
            wanted.add(presence_filter(self._ns))
        return wanted

    async def _subscribe_missing(self, client: aiomqtt.Client, subscribed: set[str]) -> None:
        while missing := self._wanted_subscriptions() - subscribed:
            for topic in sorted(missing):
                await client.subscribe(topic, qos=1)
                subscribed.add(topic)

    async def _publish_presence(self, client: aiomqtt.Client, state: PresenceState) -> None:
        payload = encode_presence(state, name=self.display_name, ts=self._clock())
        await client.publish(
            presence_topic(self._ns, self.user),
            payload,
            qos=1,
            retain=True,
            properties=json_properties(),
        )

    async def stop(self) -> None:
        self._stop.set()
        if self._running:
            try:
                await asyncio.wait_for(self._stopped.wait(), _STOP_TIMEOUT + 2)
            except TimeoutError:  # stuck in a connection attempt: abandon it
                if self._run_task is not None:
                    self._run_task.cancel()
        async with self._store_lock:
            if self._store is not None:
                await self._store.close()
                self._store = None

    # -- inbound ----------------------------------------------------------------------

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                await self._handle(message)
            except Exception:  # whatever a peer sends, the connection stays up
                log.exception("failed to handle a message on %s", message.topic)
                self._reject(str(message.topic), "internal error while handling")

    def _reject(self, topic: str, reason: str) -> None:
        self._rejected += 1
        if reason not in self._rejected_reasons:
            self._rejected_reasons.add(reason)
            log.warning("rejected a message on %s: %s", topic, reason)
        self._emit(Rejected(topic, reason, self._rejected))

    async def _handle(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        parsed = parse_topic(self._ns, topic)
        payload = message.payload if isinstance(message.payload, bytes) else b""
        if parsed is None:
            return
        if parsed.kind is TopicKind.PRESENCE:
            try:
                presence = decode_presence(parsed.user, payload)
            except EnvelopeError as exc:
                self._reject(topic, f"bad presence: {exc}")
                return
            shown = self._roster.update(presence, retained=bool(message.retain))
            self._emit(PresenceChanged(shown))
            return
        if parsed.kind is not TopicKind.INBOX or parsed.user != self.user:
            return
        try:
            env = Envelope.parse(payload, max_size=self.settings.max_payload)
        except EnvelopeError as exc:
            self._reject(topic, str(exc))
            return
        if env.sender != parsed.sender:
            self._reject(topic, f"'from' is {env.sender!r} on {parsed.sender!r}'s topic")
            return
        if env.recipient != self.user:
            self._reject(topic, f"addressed to {env.recipient!r}, not to us")
            return
        if env.type == "text":
            await self._receive_text(env)
        elif env.type == "receipt":
            await self._receive_receipt(env)

    async def _receive_text(self, env: Envelope) -> None:
        store = await self.store()
        msg = ChatMessage(
            id=env.id,
            peer=env.sender,
            direction=Direction.IN,
            sender=env.sender,
            recipient=env.recipient,
            ts=env.ts,
            body=env.body or "",
            state=DeliveryState.RECEIVED,
        )
        if not await store.add_message(msg):
            return  # a redelivery: stored and shown once
        if env.sender not in self._watched:
            await self.add_contact(env.sender)
        self._emit(ChatReceived(msg))
        await self._send_receipt(env.sender, [env.id], "delivered")

    async def _receive_receipt(self, env: Envelope) -> None:
        store = await self.store()
        state = DeliveryState(str(env.status))  # parse() allowed only delivered/read
        for message_id in env.ids:
            known = await store.get_message(message_id)
            # Only the recipient of a message may acknowledge it.
            if known is None or not known.outgoing or known.peer != env.sender:
                continue
            updated = await store.set_state(message_id, state)
            if updated is not None:
                self._emit(MessageStateChanged(message_id, updated.peer, updated.state))

    async def _send_receipt(self, peer: str, ids: list[str], status: str) -> None:
        client = self._client
        if client is None or not ids:
            return
        env = Envelope.receipt(self.user, peer, ids, status, ts=self._clock())
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(
                inbox_topic(self._ns, peer, self.user),
                env.to_bytes(),
                qos=1,
                properties=json_properties(),
            )

    # -- outbound ---------------------------------------------------------------------

    async def send_text(self, peer: str, body: str) -> ChatMessage:
        msg, data = prepare_text(
            self.user, peer, body, max_payload=self.settings.max_payload, ts=self._clock()
        )
        store = await self.store()
        async with self._send_lock:
            await store.add_message(msg)
            return await self._publish_stored(msg, data)

    async def _publish_stored(self, msg: ChatMessage, data: bytes) -> ChatMessage:
        """Publish a stored pending message; it stays pending if we are offline."""
        client = self._client
        if client is None:
            return msg
        try:
            await client.publish(
                inbox_topic(self._ns, msg.peer, self.user),
                data,
                qos=1,
                properties=json_properties(),
            )
        except aiomqtt.MqttError as exc:
            log.info("send of %s deferred: %s", msg.id, exc)
            return msg
        store = await self.store()
        updated = await store.set_state(msg.id, DeliveryState.SENT)
        if updated is None:
            return msg
        self._emit(MessageStateChanged(msg.id, msg.peer, updated.state))
        return updated

    async def _flush_outbox(self) -> None:
        store = await self.store()
        async with self._send_lock:
            for msg in await store.pending_outgoing():
                env = Envelope.text(self.user, msg.peer, msg.body, id=msg.id, ts=msg.ts)
                if (await self._publish_stored(msg, env.to_bytes())).state is (
                    DeliveryState.PENDING
                ):
                    return  # connection gone again; the next session retries in order

    # -- contacts, history, presence ------------------------------------------------------

    async def contacts(self) -> list[ContactSummary]:
        return await (await self.store()).contact_summaries()

    async def add_contact(self, user: str) -> Contact:
        validate_user_name(user, what="contact name")
        if user == self.user:
            raise InvalidUserName("you cannot add yourself as a contact")
        contact = await (await self.store()).add_contact(user)
        if user not in self._watched:
            self._watched.add(user)
            await self._subscribe(presence_topic(self._ns, user))
        return contact

    async def remove_contact(self, user: str) -> None:
        await (await self.store()).remove_contact(user)
        if user in self._watched:
            self._watched.discard(user)
            if not self._watch_roster:
                await self._unsubscribe(presence_topic(self._ns, user))

    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        return await (await self.store()).page_before(peer, before, limit)

    async def mark_read(self, peer: str) -> None:
        ids = await (await self.store()).mark_read(peer)
        await self._send_receipt(peer, ids, "read")

    def presence(self, user: str) -> Presence | None:
        return self._roster.get(user)

    def roster(self) -> list[Presence]:
        return self._roster.everyone()

    async def watch_roster(self, on: bool) -> None:
        if on == self._watch_roster:
            return
        self._watch_roster = on
        if on:
            await self._subscribe(presence_filter(self._ns))
        else:
            await self._unsubscribe(presence_filter(self._ns))

    async def _subscribe(self, topic: str) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.subscribe(topic, qos=1)

    async def _unsubscribe(self, topic: str) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.unsubscribe(topic)
