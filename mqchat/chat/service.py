"""The chat backend: one MQTT connection per running app, kept up with backoff
on a persistent session; per-user topics, retained presence with a Will, QoS 1
envelopes acknowledged only once stored, receipts and friend requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from mqchat.chat.backend import ChatBackend, EventListener
from mqchat.chat.inbound import Inbound
from mqchat.chat.outbound import Outbound
from mqchat.chat.outgoing import prepare_text
from mqchat.chat.session_lock import SessionLock
from mqchat.config.settings import Settings
from mqchat.core import friendship
from mqchat.core.backoff import Backoff
from mqchat.core.envelope import ReceiptStatus
from mqchat.core.events import ConnectionChanged, Event
from mqchat.core.model import (
    ChatMessage,
    ConnectionState,
    Contact,
    ContactSummary,
    Presence,
    PresenceState,
    utc_now,
)
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.presence import encode_presence
from mqchat.core.roster import Roster
from mqchat.core.topics import inbox_filter, presence_filter, presence_topic
from mqchat.mqtt.errors import MqttError, PublishRefused, describe_failure
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.session import Session, Will, open_session
from mqchat.mqtt.tls import TlsSetupError
from mqchat.store import ChatStore

__all__ = ["ChatService"]

log = logging.getLogger("mqchat.chat")

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
        self.broker_label = settings.broker_label  # with "(TLS, NOT VERIFIED)" and such
        self._ns = settings.namespace
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._listener: EventListener | None = None
        self._state = ConnectionState.IDLE
        self._roster = Roster(clock)
        self._store: ChatStore | None = None
        self._store_lock = asyncio.Lock()
        self._client: Session | None = None
        self._watched: set[str] = set()  # users whose presence we subscribe to
        self._watch_roster = False
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._run_task: asyncio.Task[None] | None = None
        self._choice = ProtocolChoice.of(settings)
        self._session_id: str | None = None
        self._session_lock: SessionLock | None = None
        self._outbound = Outbound(
            user=self.user,
            namespace=self._ns,
            display_name=self.display_name,
            store=self.store,
            emit=self._emit,
            clock=clock,
        )
        self._inbound = Inbound(
            settings,
            store=self.store,
            roster=self._roster,
            watchlist=self,
            replies=self._outbound,
            emit=self._emit,
        )

    # -- contract: state and events -------------------------------------------------

    def set_listener(self, listener: EventListener | None) -> None:
        self._listener = listener

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    @property
    def rejected_count(self) -> int:
        return self._inbound.rejected

    def _emit(self, event: Event) -> None:
        if self._listener is None:
            return
        try:
            self._listener(event)
        except Exception:  # a broken listener must not take the connection down
            log.exception("event listener failed on %r", event)

    def _set_state(
        self,
        state: ConnectionState,
        detail: str = "",
        retry_in: float | None = None,
        protocol: str = "",
    ) -> None:
        self._state = state
        self._emit(ConnectionChanged(state, detail, retry_in, protocol))

    @property
    def protocol(self) -> Protocol:
        """MQTT 5 unless the broker refused it and we fell back to 3.1.1."""
        return self._choice.current

    # -- store ------------------------------------------------------------------------

    async def store(self) -> ChatStore:
        """The user's database, opened on first use."""
        async with self._store_lock:
            if self._store is None:
                self._store = await ChatStore.open(
                    self.settings.database, within=self.settings.data_dir
                )
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
            # One stable client id per user and device (the database file), so the
            # broker keeps our session, and what is sent to us, while we are away.
            self._session_lock = SessionLock.try_acquire(
                self.settings.database.with_suffix(".lock")
            )
            if self._session_lock is not None:
                self._session_id = f"mqchat-{self.user}-{await store.device_id()}"
            while not self._stop.is_set():
                self._set_state(ConnectionState.CONNECTING, f"connecting to {self.broker_label}")
                try:
                    await self._connected_session()
                except TlsSetupError as exc:  # a TLS file went missing since the start
                    self._set_state(ConnectionState.FAILED, str(exc))
                    return
                except MqttError as exc:
                    if self._choice.fall_back(exc):
                        log.warning("%s refused MQTT 5; using MQTT 3.1.1", self.broker_label)
                        continue
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
            if self._session_lock is not None:
                self._session_lock.release()
                self._session_lock = None
            self._running = False
            self._stopped.set()

    async def _connected_session(self) -> None:
        will = Will(
            presence_topic(self._ns, self.user),
            encode_presence(PresenceState.OFFLINE, name=self.display_name, lost=True),
        )
        # Inbound QoS 1 messages are acknowledged once stored (see Inbound.read), so the
        # broker redelivers whatever a crash interrupted.
        async with open_session(
            self.settings,
            self._choice.current,
            will=will,
            session_id=self._session_id,
            manual_ack=True,
        ) as client:
            # Reading starts first: what the broker queued for us comes right after
            # CONNACK, and amqtt answers no SUBSCRIBE before it is acknowledged (or
            # 5 s pass), which Inbound does once it is stored.
            tasks: set[asyncio.Task[object]] = {asyncio.create_task(self._inbound.read(client))}
            try:
                await self._set_up(client)
                tasks.add(asyncio.create_task(self._outbound.run(client)))
                tasks.add(asyncio.create_task(self._stop.wait()))
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._client = None
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in tasks:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
            if self._stop.is_set():
                await self._say_goodbye(client)

    async def _set_up(self, client: Session) -> None:
        """Subscribe, announce ourselves online, and say we are connected."""
        subscribed: set[str] = set()
        await self._subscribe_missing(client, subscribed)
        if not self._watch_roster:
            # A session resumed after a crash may still hold the roster filter.
            await client.unsubscribe(presence_filter(self._ns))
        await self._publish_presence(client, PresenceState.ONLINE)
        self._client = client
        # Contacts added while we were subscribing found no client to subscribe
        # with; from here on add_contact subscribes by itself.
        await self._subscribe_missing(client, subscribed)
        self._backoff.reset()
        detail = f"connected to {self.broker_label}"
        protocol = self._choice.current
        if protocol is not Protocol.V5:
            why = "the broker does not support MQTT 5" if self._choice.fell_back else "as asked"
            detail += f" with MQTT {protocol} ({why})"
        if self._session_id is None:
            detail += (
                f"; another mqchat holds {self.user}'s session on this device, so "
                "messages sent while this one is closed go to that one"
            )
        self._set_state(ConnectionState.CONNECTED, detail, protocol=str(protocol))

    async def _say_goodbye(self, client: Session) -> None:
        """A clean quit: publish offline ourselves (the broker sends no Will now) and
        leave the roster filter out of the session the broker keeps for us."""
        with contextlib.suppress(MqttError, TimeoutError):
            async with asyncio.timeout(_STOP_TIMEOUT):
                if self._watch_roster:
                    await client.unsubscribe(presence_filter(self._ns))
                await self._publish_presence(client, PresenceState.OFFLINE)

    def _wanted_subscriptions(self) -> set[str]:
        wanted = {inbox_filter(self._ns, self.user)}
        wanted.update(presence_topic(self._ns, user) for user in self._watched)
        if self._watch_roster:
            wanted.add(presence_filter(self._ns))
        return wanted

    async def _subscribe_missing(self, client: Session, subscribed: set[str]) -> None:
        while missing := self._wanted_subscriptions() - subscribed:
            for topic in sorted(missing):
                await client.subscribe(topic, qos=self._subscription_qos(topic))
                subscribed.add(topic)

    async def _publish_presence(self, client: Session, state: PresenceState) -> None:
        payload = encode_presence(state, name=self.display_name, ts=self._clock())
        try:
            await client.publish(presence_topic(self._ns, self.user), payload, retain=True)
        except PublishRefused as exc:  # an ACL: the chat works without our presence
            log.warning("%s refused our presence: %s", self.broker_label, exc.reason)

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

    # -- outbound ---------------------------------------------------------------------

    async def send_text(self, peer: str, body: str) -> ChatMessage:
        msg, _data = prepare_text(
            self.user, peer, body, max_payload=self.settings.max_payload, ts=self._clock()
        )
        await (await self.store()).add_message(msg)
        self._outbound.queue_message(msg)
        return msg

    async def send_typing(self, peer: str) -> None:
        await self._outbound.typing(peer)

    # -- contacts, history, presence ------------------------------------------------------

    async def contacts(self) -> list[ContactSummary]:
        return await (await self.store()).contact_summaries()

    async def contact(self, user: str) -> Contact | None:
        return await (await self.store()).contact(user)

    async def add_contact(self, user: str) -> Contact:
        validate_user_name(user, what="contact name")
        if user == self.user:
            raise InvalidUserName("you cannot add yourself as a contact")
        store = await self.store()
        known = await store.contact(user)
        status, reply = friendship.on_add(known.status if known else None)
        if known is None:
            contact = await store.add_contact(user, status=status)
        elif status is not known.status:
            contact = await store.set_contact_status(user, status) or known
        else:
            contact = known
        if reply is friendship.Reply.ACCEPT:
            self._outbound.queue_accept(user)
        elif reply is friendship.Reply.REQUEST:
            self._outbound.queue_requests()
        await self.watch(user)
        return contact

    def watches(self, user: str) -> bool:
        """Whether we watch ``user``'s presence: whether they are a contact."""
        return user in self._watched

    async def watch(self, user: str) -> None:
        """Watch the presence of ``user``, a contact (also one the inbound side adds)."""
        if user not in self._watched:
            self._watched.add(user)
            await self._subscribe(presence_topic(self._ns, user))

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
        self._outbound.queue_receipt(peer, ids, ReceiptStatus.READ)

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

    def _subscription_qos(self, topic: str) -> int:
        """QoS 1 for the inbox, so the broker queues chat for us while we are away;
        QoS 0 for presence, which would otherwise pile up in that queue for days
        when the retained message gives the current state on every subscribe."""
        return 1 if topic == inbox_filter(self._ns, self.user) else 0

    async def _subscribe(self, topic: str) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(MqttError):
                await client.subscribe(topic, qos=self._subscription_qos(topic))

    async def _unsubscribe(self, topic: str) -> None:
        client = self._client
        if client is not None:
            with contextlib.suppress(MqttError):
                await client.unsubscribe(topic)
