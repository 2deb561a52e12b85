"""The inspector's subscriber: paho-mqtt on a thread of its own (``loop_start``), so
a flood is read as fast as paho can decode it, whatever the screen is doing. Each
message becomes a :class:`~mqchat.inspector.backend.Received` in a bounded buffer
that the UI empties on its timer. A supervisor thread connects (MQTT 5, or 3.1.1 when
the broker refuses 5), waits for the connection to end, and reconnects with backoff
until stopped, subscribing again each time (the session is clean)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.core.topic_filter import validate_filter
from mqchat.inspector.backend import (
    MAX_QOS,
    ClearOutcome,
    FeedError,
    InspectorBackend,
    PublishOutcome,
    PublishRequest,
    Received,
)
from mqchat.mqtt.connection import Protocol, describe_failure, refuses_protocol
from mqchat.mqtt.inspector_paho import (
    Answers,
    property_map,
    publish_properties,
    topic_of,
)
from mqchat.mqtt.paho_client import FastClient, connect_client, new_client
from mqchat.mqtt.qos_limit import connack_max_qos, granted_qos

__all__ = ["DEFAULT_BUFFER", "InspectorFeed"]

log = logging.getLogger(__name__)

DEFAULT_BUFFER = 200_000
"""Messages waiting for the UI at most (~50 MB of 100-byte messages); beyond this the
newest are dropped and counted, so a stalled screen cannot grow memory without end."""

_STOP_WAIT = 5.0
_FALLBACK_NOTE = "the broker refused MQTT 5; connected with MQTT 3.1.1"
T = TypeVar("T")


class InspectorFeed(InspectorBackend):
    """:class:`~mqchat.inspector.backend.InspectorBackend` on paho-mqtt, for one
    broker. Login: the URL's user info, or ``settings.user`` when set; anonymous
    otherwise. The client id is random (``mqchat-inspect-…``) and the session clean,
    so the inspector never disturbs a chat session of the same user."""

    def __init__(
        self,
        settings: Settings,
        *,
        buffer_size: int = DEFAULT_BUFFER,
        protocol: Protocol | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.broker_label = settings.broker.label
        self._forced = protocol
        self._protocol = protocol or Protocol.V5
        self._backoff = backoff or Backoff(initial=0.5, cap=15.0)
        self._clock = clock
        self._limit = buffer_size
        self._buffer: deque[Received] = deque()
        self._notices: deque[str] = deque(maxlen=100)
        self._received = 0  # written by the paho thread only
        self._dropped = 0
        self._lock = threading.Lock()
        self._subs: dict[str, int] = {}
        self._live: mqtt.Client | None = None  # the connected client, for requests
        self._state = ConnectionChanged(ConnectionState.IDLE)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._published: Answers[ReasonCode] = Answers()
        self._subacks: Answers[list[ReasonCode]] = Answers()
        # One connection attempt: its client, CONNACK, and the end of it.
        self._client: mqtt.Client | None = None
        self._connack: ReasonCode | None = None
        self._max_qos: int | None = None
        """The highest QoS this connection's broker takes, once known."""
        self._progress = threading.Event()  # CONNACK came, or the connection ended
        self._ended = threading.Event()
        self._lost = ""

    # -- contract: state ------------------------------------------------------------

    @property
    def connection(self) -> ConnectionChanged:
        return self._state

    @property
    def subscriptions(self) -> Mapping[str, int]:
        with self._lock:
            return dict(self._subs)

    @property
    def received(self) -> int:
        return self._received

    @property
    def dropped(self) -> int:
        return self._dropped

    def take(self, limit: int) -> list[Received]:
        buffer = self._buffer
        count = min(limit, len(buffer))
        popleft = buffer.popleft
        return [popleft() for _ in range(count)]

    def take_notices(self) -> list[str]:
        notices = self._notices
        return [notices.popleft() for _ in range(len(notices))]

    def _notice(self, text: str) -> None:
        self._notices.append(text)

    # -- contract: running ----------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._state = ConnectionChanged(ConnectionState.CONNECTING)
        self._thread = threading.Thread(
            target=self._supervise, name="mqchat-inspect-feed", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        client = self._client
        if client is not None:
            client.disconnect()
        self._ended.set()
        self._progress.set()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, _STOP_WAIT)
            if thread.is_alive():
                log.warning("the inspector's connection did not stop within %ss", _STOP_WAIT)
        if self._state.state is not ConnectionState.FAILED:
            self._state = ConnectionChanged(ConnectionState.CLOSED)

    def _supervise(self) -> None:
        try:
            self._keep_connected()
        except Exception as exc:  # a bug here must show, not leave "connecting…" forever
            log.exception("the inspector's connection failed")
            self._state = ConnectionChanged(ConnectionState.FAILED, f"internal error: {exc}")

    def _keep_connected(self) -> None:
        while not self._stopping.is_set():
            error = self._attempt(self._protocol)
            if self._stopping.is_set():
                break
            if error is None:  # it was up, then lost: the first retry comes quickly
                self._backoff.reset()
                error = ConnectionError(self._lost)
            elif self._forced is None and self._protocol is Protocol.V5 and refuses_protocol(error):
                self._protocol = Protocol.V311
                continue
            failure = describe_failure(error, self.settings)
            if failure.fatal:
                self._state = ConnectionChanged(ConnectionState.FAILED, failure.reason)
                break
            delay = self._backoff.next_delay()
            self._state = ConnectionChanged(ConnectionState.RETRYING, failure.reason, delay)
            if self._stopping.wait(delay):
                break
            self._state = ConnectionChanged(ConnectionState.CONNECTING)

    def _attempt(self, protocol: Protocol) -> BaseException | None:
        """Connect once and stay until the connection ends. Returns ``None`` when it
        was up and then lost (or stopped), else why connecting failed (an exception,
        for :func:`describe_failure`)."""
        client = new_client(FastClient, self.settings, protocol, "inspect")
        client.suppress_exceptions = True  # a bug in a callback must not end the thread
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._message_handler()
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        self._connack, self._lost = None, ""
        self._progress.clear()
        self._ended.clear()
        self._client = client
        try:
            if self._stopping.is_set():
                return None
            try:
                connect_client(client, self.settings, protocol)
            except (OSError, ValueError) as exc:
                return exc
            client.loop_start()
            try:
                self._progress.wait(self.settings.connect_timeout)
                connack = self._connack
                if self._stopping.is_set():
                    return None
                if connack is None:
                    if self._ended.is_set():
                        return ConnectionError("the broker closed the connection before CONNACK")
                    return TimeoutError("no CONNACK")
                if connack.is_failure:
                    return aiomqtt.MqttCodeError(connack)
                self._ended.wait()
                return None
            finally:
                client.disconnect()
                client.loop_stop()
        finally:
            with self._lock:
                self._live = None
            self._client = None
            self._published.abandon_all()
            self._subacks.abandon_all()

    # -- paho callbacks (on paho's thread) -----------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object
    ) -> None:
        self._connack = reason
        # paho hands an empty Properties to a 3.1.1 CONNACK too: only MQTT 5 says.
        props = _p if isinstance(_p, Properties) else None
        self._max_qos = connack_max_qos(props) if self._protocol is Protocol.V5 else None
        self._progress.set()
        if reason.is_failure:
            return
        with self._lock:
            self._live = client
            subs = list(self._subs.items())
        detail = _FALLBACK_NOTE if self._protocol is Protocol.V311 and not self._forced else ""
        self._state = ConnectionChanged(
            ConnectionState.CONNECTED, detail, protocol=self._protocol.value
        )
        if subs:
            self._send_subscribe(client, subs)

    def _on_disconnect(
        self, _c: object, _u: object, _flags: object, reason: ReasonCode, _p: object
    ) -> None:
        self._lost = str(reason) if reason.is_failure else "the broker closed the connection"
        self._ended.set()
        self._progress.set()

    def _message_handler(self) -> Callable[[mqtt.Client, object, mqtt.MQTTMessage], None]:
        # The hot path: one call per message, on paho's thread. Local names, no locks
        # (deque.append is atomic), and properties converted only when there are any.
        buffer, limit, clock = self._buffer, self._limit, self._clock
        append = buffer.append

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            self._received += 1
            if len(buffer) >= limit:
                self._dropped += 1
                return
            append(
                Received(
                    topic_of(msg),
                    bytes(msg.payload),
                    msg.qos,
                    bool(msg.retain),
                    property_map(msg.properties),
                    clock(),
                )
            )

        return on_message

    def _on_subscribe(
        self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._subacks.answer(mid, codes)

    def _on_publish(self, _c: object, _u: object, mid: int, reason: ReasonCode, _p: object) -> None:
        self._published.answer(mid, reason)

    # -- subscriptions --------------------------------------------------------------

    def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        validate_filter(topic_filter)
        if qos not in range(MAX_QOS + 1):
            raise ValueError(f"QoS must be 0, 1 or 2, not {qos!r}")
        with self._lock:
            self._subs[topic_filter] = qos
            client = self._live
        if client is not None:
            self._send_subscribe(client, [(topic_filter, qos)])

    def _send_subscribe(self, client: mqtt.Client, subs: list[tuple[str, int]]) -> None:
        if self._protocol is Protocol.V5:
            rc, mid = client.subscribe([(f, SubscribeOptions(qos=q)) for f, q in subs])
        else:
            rc, mid = client.subscribe(subs)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            return  # not connected any more: the next connection subscribes again

        def answered(codes: list[ReasonCode] | None) -> None:
            for (topic_filter, qos), code in zip(subs, codes or [], strict=False):
                if code.is_failure:
                    self._notice(f"{self.broker_label} refused {topic_filter!r}: {code}")
                elif code.value < qos:
                    self._notice(
                        f"{topic_filter!r}: the broker granted QoS {code.value}, not {qos}"
                    )

        self._subacks.expect(mid, answered)

    def unsubscribe(self, topic_filter: str) -> bool:
        with self._lock:
            if self._subs.pop(topic_filter, None) is None:
                return False
            client = self._live
        if client is not None:
            client.unsubscribe(topic_filter)
        return True

    # -- publishing -----------------------------------------------------------------

    def _connected(self) -> mqtt.Client:
        with self._lock:
            client = self._live
        if client is None:
            raise FeedError(f"not connected to {self.broker_label}")
        return client

    async def _answer(self, answers: Answers[T], mid: int) -> T:
        """What the broker answers to packet ``mid`` (on paho's thread), awaited
        here; :class:`FeedError` when it does not, or the connection goes first."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T | None] = loop.create_future()

        def answered(value: T | None) -> None:
            def settle() -> None:
                if not answer.done():
                    answer.set_result(value)

            loop.call_soon_threadsafe(settle)

        answers.expect(mid, answered)
        try:
            async with asyncio.timeout(self.settings.connect_timeout * 2):
                value = await answer
        except TimeoutError:
            answers.forget(mid)
            raise FeedError(f"no answer from {self.broker_label} (timed out)") from None
        if value is None:
            raise FeedError(f"lost the connection to {self.broker_label} before it answered")
        return value

    async def _publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, props: Properties | None
    ) -> ReasonCode:
        client = self._connected()
        info = client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise FeedError(f"not sent to {self.broker_label}: {mqtt.error_string(info.rc)}")
        return await self._answer(self._published, info.mid)

    async def _allowed_qos(self, topic: str) -> int:
        """The highest QoS the broker takes (qos_limit.py): the MQTT 5 CONNACK says;
        with 3.1.1 a QoS 2 subscription to ``topic`` is granted at most that."""
        if self._max_qos is not None:
            return self._max_qos
        client = self._connected()
        if self._protocol is Protocol.V5:
            rc, mid = client.subscribe([(topic, SubscribeOptions(qos=2))])
        else:
            rc, mid = client.subscribe([(topic, 2)])
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise FeedError(f"not connected to {self.broker_label}")
        codes = await self._answer(self._subacks, mid)
        with self._lock:
            kept = self._subs.get(topic)
        if kept is None:
            client.unsubscribe(topic)
        else:  # the user's own subscription to exactly this topic: as it was
            self._send_subscribe(client, [(topic, kept)])
        granted = granted_qos(codes[0]) if codes else None
        self._max_qos = 2 if granted is None else granted  # a refused probe tells nothing
        return self._max_qos

    async def publish(self, request: PublishRequest) -> PublishOutcome:
        v5 = self._protocol is Protocol.V5
        props = publish_properties(request) if v5 else None
        dropped = request.has_properties and not v5
        qos = request.qos
        if qos == 2:  # NATS and others drop the connection on a QoS 2 PUBLISH
            qos = min(qos, await self._allowed_qos(request.topic))
        code = await self._publish(request.topic, request.payload, qos, request.retain, props)
        refused = str(code) if code.is_failure else None
        return PublishOutcome(refused is None, refused, dropped, qos_used=qos)

    # -- retained messages ------------------------------------------------------------

    async def find_retained(self, topic_filter: str) -> list[str]:
        from mqchat.mqtt.link import LinkError
        from mqchat.tools.clear_retained import ClearRequest, clear_retained

        validate_filter(topic_filter)
        request = ClearRequest(topic_filter=topic_filter, dry_run=True)
        try:
            result = await asyncio.to_thread(
                clear_retained, self.settings, request, protocol=self._forced
            )
        except LinkError as exc:
            raise FeedError(exc.reason) from None
        return result.found

    async def clear_retained(self, topics: Sequence[str]) -> ClearOutcome:
        answers = await asyncio.gather(
            *(self._publish(topic, b"", 1, True, None) for topic in topics),
            return_exceptions=True,
        )
        refused: dict[str, str] = {}
        for topic, answer in zip(topics, answers, strict=True):
            if isinstance(answer, FeedError):
                raise answer
            if isinstance(answer, BaseException):
                raise FeedError(str(answer)) from answer
            if answer.is_failure:
                refused[topic] = str(answer)
        return ClearOutcome(len(topics) - len(refused), refused)
