"""The inspector's subscriber: the fast link (:mod:`mqchat.mqtt.link`) driven by a
thread of its own, so a flood is read as fast as paho can decode it, whatever the
screen is doing. Each message lands in a bounded buffer that the UI empties on its
timer. The thread connects (MQTT 5, or 3.1.1 when the broker refuses 5), subscribes,
reads until the connection ends, and reconnects with backoff until stopped. What the
UI asks of the broker (subscribe, publish, clear) is queued to that thread, which
carries it out between reads and answers on the UI's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

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
from mqchat.inspector.capture import DEFAULT_PAYLOAD_CAP
from mqchat.inspector.handoff import Handoff
from mqchat.mqtt.errors import LinkError, NoAnswer, Reason
from mqchat.mqtt.link import Link, open_link
from mqchat.mqtt.properties import PublishProperties
from mqchat.mqtt.protocol import FALLBACK_NOTE, Protocol, ProtocolChoice
from mqchat.mqtt.retained import clear_topics, collect_retained

__all__ = ["DEFAULT_BUFFER", "DEFAULT_BUFFER_BYTES", "InspectorFeed"]

log = logging.getLogger(__name__)

DEFAULT_BUFFER = 200_000
"""Messages waiting for the UI at most (~50 MB of 100-byte messages); beyond this the
newest are dropped and counted, so a stalled screen cannot grow memory without end."""
DEFAULT_BUFFER_BYTES = 256 * 1024 * 1024
"""Topic and payload bytes waiting for the UI at most: the same, for large messages."""

_STOP_WAIT = 5.0
_IDLE_STEP = 1.0  # seconds the thread waits for traffic before looking at its requests
# Beyond _HIGH_WATER waiting messages, reading pauses (≤ _PAUSE s) until the screen
# takes some: a flood waits in the socket, not in our memory. (20,000 drained no
# faster once the screen takes in slices, and raised the RSS by ~5 % over 1M messages.)
_HIGH_WATER, _HIGH_WATER_BYTES, _PAUSE = 5_000, 32 * 1024 * 1024, 0.2
T = TypeVar("T")
Request = Callable[[Link | None], None]
"""Work for the feed's thread; ``None`` instead of a link when the link went first."""


class InspectorFeed(InspectorBackend):
    """:class:`~mqchat.inspector.backend.InspectorBackend` on the fast link, for one
    broker. Login: the URL's user info, or ``settings.user`` when set; anonymous
    otherwise. The client id is random (``mqchat-inspect-…``) and the session clean,
    so the inspector never disturbs a chat session of the same user."""

    def __init__(
        self,
        settings: Settings,
        *,
        buffer_size: int = DEFAULT_BUFFER,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        max_payload: int | None = DEFAULT_PAYLOAD_CAP,
        protocol: Protocol | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.broker_label = settings.broker.label
        self._choice = ProtocolChoice.of(settings, protocol)
        self._backoff = backoff or Backoff(initial=0.5, cap=15.0)
        self._clock = clock
        self._max_payload = max_payload
        self._handoff = Handoff(buffer_size, buffer_bytes)
        self._notices: deque[str] = deque(maxlen=100)
        self._lock = threading.Lock()
        self._subs: dict[str, int] = {}
        self._state = ConnectionChanged(ConnectionState.IDLE)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._requests: queue.SimpleQueue[Request] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._up = False  # a link is connected and serving requests

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
        return self._handoff.received

    @property
    def dropped(self) -> int:
        return self._handoff.dropped

    def take(self, limit: int) -> list[Received]:
        return self._handoff.take(limit)

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
        self._wake()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, _STOP_WAIT)
            if thread.is_alive():
                log.warning("the inspector's connection did not stop within %ss", _STOP_WAIT)
        if thread is None or not thread.is_alive():
            self._close_wake()
        if self._state.state is not ConnectionState.FAILED:
            self._state = ConnectionChanged(ConnectionState.CLOSED)

    def _close_wake(self) -> None:
        fds, self._wake_r, self._wake_w = (self._wake_r, self._wake_w), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)

    def _wake(self) -> None:
        # BlockingIOError: a wake-up is already waiting; OSError: the feed is gone
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def _supervise(self) -> None:
        try:
            self._keep_connected()
        except Exception as exc:  # a bug here must show, not leave "connecting…" forever
            log.exception("the inspector's connection failed")
            self._state = ConnectionChanged(ConnectionState.FAILED, f"internal error: {exc}")
        finally:
            self._refuse_waiting()

    def _keep_connected(self) -> None:
        while not self._stopping.is_set():
            try:
                link = open_link(self.settings, self._choice, role="inspect", clock=self._clock)
            except LinkError as exc:
                if exc.fatal:
                    self._state = ConnectionChanged(ConnectionState.FAILED, exc.reason)
                    return
                reason = exc.reason
            else:
                try:
                    self._serve(link)
                    return  # stopped
                except LinkError as exc:
                    self._backoff.reset()  # it was up, then lost: retry quickly
                    reason = exc.reason
                finally:
                    self._up = False
                    link.close()
                    self._refuse_waiting()
            if self._stopping.is_set():
                return
            delay = self._backoff.next_delay()
            self._state = ConnectionChanged(ConnectionState.RETRYING, reason, delay)
            if self._stopping.wait(delay):
                return
            self._state = ConnectionChanged(ConnectionState.CONNECTING)

    def _serve(self, link: Link) -> None:
        """Read and carry out requests until stopped; :class:`LinkError` when the
        connection is lost."""
        link.client.suppress_exceptions = True  # a bug in a callback must not end us
        link.on_message(self._handoff.handler(), max_payload=self._max_payload)
        self._refuse_waiting()  # subscriptions are made afresh below; the rest is stale
        with self._lock:
            subs = list(self._subs.items())
        self._up = True
        detail = FALLBACK_NOTE if self._choice.fell_back else ""
        protocol = link.protocol.value
        self._state = ConnectionChanged(ConnectionState.CONNECTED, detail, protocol=protocol)
        if subs:
            self._subscribe_now(link, subs)
        wake, handoff = [self._wake_r], self._handoff
        while not self._stopping.is_set():
            messages, size = handoff.waiting()
            if messages >= _HIGH_WATER or size >= _HIGH_WATER_BYTES:
                handoff.taken.clear()
                handoff.taken.wait(_PAUSE)  # backpressure: let the screen catch up first
            if link.step(_IDLE_STEP, watch=wake):
                try:
                    while os.read(self._wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            self._run_requests(link)

    def _run_requests(self, link: Link | None) -> None:
        requests = self._requests
        while not requests.empty():
            requests.get_nowait()(link)

    def _refuse_waiting(self) -> None:
        """The link is gone: requests still queued hear so."""
        self._run_requests(None)

    # -- subscriptions --------------------------------------------------------------

    def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        validate_filter(topic_filter)
        if qos not in range(MAX_QOS + 1):
            raise ValueError(f"QoS must be 0, 1 or 2, not {qos!r}")
        with self._lock:
            self._subs[topic_filter] = qos
        self._queue(lambda link: self._subscribe_now(link, [(topic_filter, qos)]))

    def _subscribe_now(self, link: Link, subs: list[tuple[str, int]]) -> None:
        codes = link.try_subscribe(subs)
        for (topic_filter, qos), code in zip(subs, codes, strict=False):
            if code.is_failure:
                self._notice(f"{self.broker_label} refused {topic_filter!r}: {code}")
            elif code.value < qos:
                self._notice(f"{topic_filter!r}: the broker granted QoS {code.value}, not {qos}")

    def unsubscribe(self, topic_filter: str) -> bool:
        with self._lock:
            if self._subs.pop(topic_filter, None) is None:
                return False
        self._queue(lambda link: link.unsubscribe([topic_filter]))
        return True

    def _queue(self, work: Callable[[Link], object]) -> None:
        """Run ``work`` on the feed's thread if a link is up (a new one subscribes anyway)."""
        if self._up:

            def request(link: Link | None) -> None:
                if link is not None:
                    work(link)

            self._requests.put(request)
            self._wake()

    # -- asking the broker ------------------------------------------------------------

    async def _ask(self, work: Callable[[Link], T]) -> T:
        """``work(link)`` on the feed's thread, its result here. :class:`FeedError`
        when not connected, when the broker does not answer in time, or when the
        connection goes first."""
        if not self._up:
            raise FeedError(f"not connected to {self.broker_label}")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def settle(result: T | None, error: BaseException | None) -> None:
            if answer.done():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result)  # type: ignore[arg-type]

        def request(link: Link | None) -> None:
            if link is None:
                lost = f"lost the connection to {self.broker_label} before it answered"
                loop.call_soon_threadsafe(settle, None, FeedError(lost))
                return
            try:
                result = work(link)
            except NoAnswer:
                error = FeedError(f"no answer from {self.broker_label} (timed out)")
                loop.call_soon_threadsafe(settle, None, error)
            except LinkError:
                error = FeedError(f"lost the connection to {self.broker_label} before it answered")
                loop.call_soon_threadsafe(settle, None, error)
                raise  # the feed reconnects
            except Exception as exc:  # a bug: the UI shows it, the feed goes on
                loop.call_soon_threadsafe(settle, None, exc)
            else:
                loop.call_soon_threadsafe(settle, result, None)

        self._requests.put(request)
        self._wake()
        try:
            async with asyncio.timeout(self.settings.connect_timeout * 2 + 1):
                return await answer
        except TimeoutError:
            if self._up:
                raise FeedError(f"no answer from {self.broker_label} (timed out)") from None
            raise FeedError(
                f"lost the connection to {self.broker_label} before it answered"
            ) from None

    async def publish(self, request: PublishRequest) -> PublishOutcome:
        props = None
        if request.has_properties:
            props = PublishProperties(
                request.content_type, request.user_properties, request.message_expiry
            )

        def publish(link: Link) -> tuple[int, Reason, bool]:
            qos = request.qos
            if qos == 2:  # NATS and others drop the connection on a QoS 2 PUBLISH
                qos = min(qos, self._allowed_qos(link, request.topic))
            code = link.publish_and_wait(request.topic, request.payload, qos, request.retain, props)
            return qos, code, link.protocol is not Protocol.V5

        qos, code, v311 = await self._ask(publish)
        refused = str(code) if code.is_failure else None
        return PublishOutcome(refused is None, refused, request.has_properties and v311, qos)

    def _allowed_qos(self, link: Link, topic: str) -> int:
        """:meth:`Link.allowed_qos`; a 3.1.1 probe unsubscribes from ``topic``, so a
        subscription of the user's to exactly that topic is made again as it was."""
        probed = link.max_qos is None
        allowed = link.allowed_qos(topic)
        with self._lock:
            kept = self._subs.get(topic)
        if probed and kept is not None:
            self._subscribe_now(link, [(topic, kept)])
        return allowed

    # -- retained messages ------------------------------------------------------------

    async def find_retained(self, topic_filter: str) -> list[str]:
        validate_filter(topic_filter)

        def find() -> list[str]:
            choice = ProtocolChoice(self._choice.forced)
            link = open_link(self.settings, choice, role="inspect-find")
            try:
                return collect_retained(link, topic_filter)
            finally:
                link.close()

        try:
            return await asyncio.to_thread(find)
        except LinkError as exc:
            raise FeedError(exc.reason) from None

    async def clear_retained(self, topics: Sequence[str]) -> ClearOutcome:
        def clear(link: Link) -> ClearOutcome:
            refused: dict[str, str] = {}
            cleared = 0

            def answered(topic: str, code: Reason) -> None:
                nonlocal cleared
                if code.is_failure:
                    refused[topic] = str(code)
                else:
                    cleared += 1

            timeout = self.settings.connect_timeout * 2
            clear_topics(link, topics, answered, window=len(topics) or 1, timeout=timeout)
            return ClearOutcome(cleared, refused)

        return await self._ask(clear)
