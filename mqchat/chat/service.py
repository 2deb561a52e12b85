"""The chat backend: one MQTT connection per running app, kept up with backoff
on a persistent session; per-user topics, retained presence with a Will, QoS 1
envelopes acknowledged only once stored, receipts and friend requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mqchat.chat.backend import EventListener, SendError
from mqchat.chat.contacts import ContactBook
from mqchat.chat.device_list import DeviceList
from mqchat.chat.edits import Edits
from mqchat.chat.encryption import Encryption
from mqchat.chat.group_commit import GroupCommit
from mqchat.chat.inbound import Inbound
from mqchat.chat.outbound import Outbound
from mqchat.chat.outgoing import prepare_text
from mqchat.chat.own_devices import OwnDevices
from mqchat.chat.reconnect import Reconnect
from mqchat.chat.redelivery import Redelivery
from mqchat.chat.room_api import RoomApi
from mqchat.chat.rooms import Rooms
from mqchat.chat.service_reads import ServiceReads
from mqchat.chat.session_lock import SessionLock
from mqchat.chat.subscriptions import Subscriptions
from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.envelope import sealed_limit
from mqchat.core.events import (
    ConnectionChanged,
    ContactsChanged,
    Event,
    PresenceChanged,
    RoomChanged,
    TrustChanged,
)
from mqchat.core.model import ChatMessage, ConnectionState, PresenceState, utc_now
from mqchat.core.names import validate_user_name
from mqchat.core.rooms import is_room_key
from mqchat.core.roster import Roster
from mqchat.core.tasks import Background
from mqchat.core.timing import MAX_SKEW
from mqchat.mqtt.errors import MqttError, describe_failure
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.tls import TlsSetupError
from mqchat.store import ChatStore, StoreError

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["ChatService"]

log = logging.getLogger("mqchat.chat")

_STOP_TIMEOUT = 5.0
INCOMING_MARGIN = 8 * 1024
"""Room for the topic and properties above the largest envelope, in our Maximum Packet Size."""


class ChatService(DeviceList, RoomApi, ServiceReads):
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
        self._listener: EventListener | None = None
        self._state = ConnectionState.IDLE
        self._roster = Roster(clock)
        self._store: ChatStore | None = None
        self._store_lock = asyncio.Lock()
        self._client: Session | None = None
        self._subs = Subscriptions(user=self.user, namespace=self._ns)
        self._stop = asyncio.Event()
        self._reconnect = Reconnect(self._stop, backoff)
        self._abandoned = False  # crashing: no goodbye, let the Will speak
        self._stopped = asyncio.Event()
        self._running = False
        self._run_task: asyncio.Task[None] | None = None
        self._choice = ProtocolChoice.of(settings)
        self._session_id: str | None = None
        self._session_lock: SessionLock | None = None
        self._had_session = False  # a persistent session was up in this run
        self._devices = OwnDevices(settings, clock)
        self.encryption = Encryption(
            user=self.user, namespace=self._ns, store=self.store, emit=self._emit, clock=clock,
            subscriptions=self._subs,
        )  # fmt: skip
        self._background = Background(log, "subscribing to a room's members").run
        self._rooms = Rooms(
            user=self.user,
            namespace=self._ns,
            store=self.store,
            emit=self._emit,
            receipt=lambda *receipt: self._outbound.queue_receipt(*receipt),
            clock=clock,
            max_age=MAX_SKEW + timedelta(seconds=settings.session_expiry),
            copies=lambda: self._devices.copies_wanted,
        )
        self._outbound = Outbound(
            user=self.user,
            namespace=self._ns,
            display_name=self.display_name,
            store=self.store,
            emit=self._emit,
            clock=clock,
            copies=lambda: self._devices.copies_wanted,
            fan_out=self._rooms.fan_out,
            fan_out_change=self._rooms.fan_out_change,
            sealed_for=lambda peer: not settings.encryption or self.encryption.encrypts_to(peer),
        )
        self._redelivery = Redelivery(store=self.store, outbound=self._outbound, emit=self._emit)
        self._sending = GroupCommit(self._store_sent_now, self._store_sent, self._queue_sent)
        self._encoded: dict[str, bytes] = {}  # what send_text encoded, for the outbox
        self._contacts = ContactBook(
            user=self.user,
            store=self.store,
            subscriptions=self._subs,
            outbound=self._outbound,
            redelivery=self._redelivery,
        )
        self._edits = Edits(
            user=self.user,
            store=self.store,
            outbound=self._outbound,
            emit=self._emit,
            clock=clock,
            max_payload=settings.max_payload,
        )
        self._inbound = Inbound(
            settings,
            store=self.store,
            roster=self._roster,
            watchlist=self._contacts,
            replies=self._outbound,
            emit=self._emit,
            devices=self._devices,
            rooms=self._rooms,
            encryption=self.encryption if settings.encryption else None,
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
        self._observe(event)
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
            await self._serve()
        except StoreError as exc:
            # Not a reason to reconnect: the next session would fail the same way.
            log.error("the history failed: %s", exc)
            self._set_state(ConnectionState.FAILED, f"cannot store the history: {exc}")
        finally:
            self._client = None
            if self._session_lock is not None:
                self._session_lock.release()
                self._session_lock = None
            self._running = False
            self._stopped.set()

    async def _serve(self) -> None:
        store = await self.store()
        await self._contacts.load()
        self._subs.trust_members(await self._rooms.all())
        # One stable client id per user and device (the database file): the broker
        # keeps our session while we are away.
        lock_path = self.settings.database.with_suffix(".lock")
        self._session_lock = SessionLock.try_acquire(lock_path)
        if self._session_lock is None:
            why = SessionLock.taken(lock_path, self.user, self.settings.data_dir)
            self._set_state(ConnectionState.FAILED, why)
            return
        self._devices.start(await store.device_id())
        if self.settings.encryption and (
            bad := await self.encryption.start(self._devices.device, self.settings.database)
        ):
            self._set_state(ConnectionState.FAILED, bad)
            return
        self._session_id = f"mqchat-{self.user}-{self._devices.device}"
        while not self._stop.is_set():
            self._set_state(ConnectionState.CONNECTING, f"connecting to {self.broker_label}")
            try:
                await self._connected_session()
            except TlsSetupError as exc:  # a TLS file went missing since the start
                self._set_state(ConnectionState.FAILED, str(exc))
                return
            except MqttError as exc:
                await self._outbound.connection_lost(exc)
                if self._choice.fall_back(exc):
                    log.warning("%s refused MQTT 5; using MQTT 3.1.1", self.broker_label)
                    continue
                failure = describe_failure(exc, self.settings)
                if failure.fatal:
                    self._set_state(ConnectionState.FAILED, failure.reason)
                    return
                if self._stop.is_set():
                    break
                delay = self._reconnect.next_delay()
                self._set_state(ConnectionState.RETRYING, failure.reason, delay)
                await self._reconnect.wait(delay)
        self._set_state(ConnectionState.CLOSED, "disconnected")

    async def _connected_session(self) -> None:
        will = self._devices.will(self.display_name)
        # QoS 1 is acknowledged once stored (Inbound.read): a crash's loss comes again.
        from mqchat.mqtt.session import open_session  # aiomqtt: after the first frame

        async with open_session(
            self.settings,
            self._choice.current,
            will=will,
            session_id=self._session_id,
            manual_ack=True,
            max_incoming=sealed_limit(self.settings.max_payload) + INCOMING_MARGIN,
        ) as client:
            if self.settings.encryption:
                client.before_publish = self.encryption.seal_for_topic
            # Reading first: what was queued for us comes right after CONNACK, and amqtt
            # answers no SUBSCRIBE before it is acknowledged (or 5 s), once stored.
            tasks: set[asyncio.Task[object]] = {asyncio.create_task(self._inbound.read(client))}
            try:
                await self._set_up(client)
                tasks.add(asyncio.create_task(self._outbound.run(client)))
                tasks.add(asyncio.create_task(self._stop.wait()))
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._client = None
                self._devices.disconnected()
                self.encryption.disconnected()
                self._rooms.disconnected()
                self._subs.detach()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in tasks:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
            if self._abandoned:
                client.drop()  # no DISCONNECT: the broker publishes the Will
            elif self._stop.is_set():
                await self._say_goodbye(client)

    async def _set_up(self, client: Session) -> None:
        """Subscribe, announce ourselves online, and say we are connected."""
        await self._subs.attach(client)
        await self._devices.say(client, PresenceState.ONLINE, self.display_name)
        await self._devices.connected(client)
        if self.settings.encryption:
            await self.encryption.announce(client)
        await self._rooms.connected(client)
        self._client = client
        self._reconnect.connected()
        if self._had_session and not client.session_present:
            await self._redelivery.session_lost()
        self._had_session = True
        detail = f"connected to {self.broker_label}"
        protocol = self._choice.current
        if protocol is not Protocol.V5:
            why = "the broker does not support MQTT 5" if self._choice.fell_back else "as asked"
            detail += f" with MQTT {protocol} ({why})"
        self._set_state(ConnectionState.CONNECTED, detail, protocol=str(protocol))

    async def _say_goodbye(self, client: Session) -> None:
        """A clean quit: publish offline ourselves (the broker sends no Will now) and
        leave the roster filter out of the session the broker keeps for us."""
        with contextlib.suppress(MqttError, TimeoutError):
            async with asyncio.timeout(_STOP_TIMEOUT):
                await self._subs.leaving(client)
                if await self._devices.leaving(client):  # no other device is online
                    await self._devices.say(client, PresenceState.OFFLINE, self.display_name)

    def _observe(self, event: Event) -> None:
        """What the chat itself does about its events (see ContactBook.changed; a
        peer coming online gets what a lost session may have lost)."""
        if isinstance(event, PresenceChanged) and event.presence.user == self.user:
            self._devices.presence_seen(event.presence, self.display_name)
        elif isinstance(event, PresenceChanged) and event.presence.online:
            self._redelivery.peer_online(event.presence.user)
            self.encryption.peer_online(event.presence.user)
        elif isinstance(event, ContactsChanged):
            self._contacts.changed(event)
        elif isinstance(event, TrustChanged):
            self._outbound.wake()  # a friend request may wait for these keys
        elif isinstance(event, RoomChanged):
            self._subs.trust_members([event.room])
            self._background(self._subs.sync())

    def reconnect_now(self) -> None:
        if self._state is ConnectionState.RETRYING:
            self._reconnect.now()

    def abandon(self) -> None:
        self._abandoned = True
        self._stop.set()
        if self._client is not None:
            self._client.drop()

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
        if is_room_key(peer):
            return await self.send_room_text(peer[1:], body)
        limit, sealed = self.settings.max_payload, self.encryption.encrypts_to(peer)
        msg, data = prepare_text(self.user, peer, body, max_payload=limit, ts=self._clock())
        msg = replace(msg, sealed=sealed) if sealed else msg
        self._encoded[msg.id] = data
        try:
            await self._sending.add(msg)  # stored, and queued for the outbox
        except StoreError as exc:  # not stored, so not sent: nothing is lost unseen
            raise SendError(f"not sent: the history cannot be written: {exc}") from exc
        finally:
            self._encoded.pop(msg.id, None)
        return msg

    def _queue_sent(self, msg: ChatMessage) -> None:
        self._outbound.queue_message(msg, self._encoded.pop(msg.id, None))

    def _store_sent_now(self, messages: Sequence[ChatMessage]) -> bool:
        return self._store is not None and self._store.add_messages_now(messages) is not None

    async def _store_sent(self, messages: Sequence[ChatMessage]) -> None:
        await (await self.store()).add_messages(messages)

    async def send_typing(self, peer: str) -> None:
        if not is_room_key(peer):  # no typing hints in rooms
            await self._outbound.typing(peer)
