"""The fast link: one paho-mqtt connection driven step by step by a select loop in the
calling thread, no asyncio. ``mqchat sub``/``pub``/``clear-retained`` drive it from
the main thread, the inspector's feed from its own; a flood drains several times
faster this way than through aiomqtt (docs/brokers.md#client-library-speed)."""

from __future__ import annotations

import dataclasses
import select
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from mqchat.config.settings import Settings
from mqchat.core.message import Message
from mqchat.mqtt.errors import (
    ClosedBeforeConnack,
    LinkError,
    MqttError,
    NoAnswer,
    Reason,
    describe_failure,
)
from mqchat.mqtt.factory import client_options, connect_paho, new_paho
from mqchat.mqtt.fast_paho import FastPaho
from mqchat.mqtt.paho_message import message_from_paho
from mqchat.mqtt.properties import MappedProperties, PublishProperties
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.qos_limit import connack_max_qos, granted_qos
from mqchat.mqtt.shims import watch_socket_errors
from mqchat.mqtt.tls import TlsSetupError

__all__ = [
    "Link",
    "LinkError",
    "MessageHandler",
    "message_from_paho",
    "open_link",
]

MessageHandler = Callable[[Message], None]

_DRAIN_BUDGET = 2000  # packets read in a row before the clock and keepalive are looked at
_CLOSE_WAIT = 2.0


def _reason(code: ReasonCode) -> Reason:
    return Reason(int(code.value), str(code))


class Link:
    """One connected client. Made by :func:`open_link`; driven by :meth:`step`, which
    the caller repeats until it has what it wants."""

    def __init__(self, client: FastPaho, settings: Settings, protocol: Protocol) -> None:
        self.client = client
        self.settings = settings
        self.protocol = protocol
        self._acks: dict[int, list[Reason]] = {}
        self._published: dict[int, Reason] = {}
        self._on_published: Callable[[int, Reason], None] | None = None
        self._lost: str | None = None
        self.max_qos: int | None = None
        """The highest QoS the broker takes, once known (:meth:`allowed_qos`)."""
        client.on_subscribe = self._on_suback
        client.on_unsubscribe = self._on_suback
        client.on_publish = self._on_puback
        client.on_disconnect = self._on_disconnect

    # --- callbacks (run inside paho's loop_read) ---------------------------------

    def _on_suback(
        self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._acks[mid] = [_reason(c) for c in codes]

    def _on_puback(self, _c: object, _u: object, mid: int, code: ReasonCode, _p: object) -> None:
        reason = _reason(code)
        if self._on_published is not None:
            self._on_published(mid, reason)
        else:
            self._published[mid] = reason

    def _on_disconnect(
        self, _c: object, _u: object, flags: paho.DisconnectFlags, code: ReasonCode, _p: object
    ) -> None:
        if flags.is_disconnect_packet_from_server and code.is_failure:
            self._lost = str(code)  # the broker's own words (MQTT 5 DISCONNECT)

    # --- driving the connection ----------------------------------------------------

    def on_message(self, handler: MessageHandler, *, max_payload: int | None = None) -> None:
        """Call ``handler`` for every message, inside :meth:`step`. To stop reading
        at once (``-C`` reached), it calls :meth:`halt`. With ``max_payload``, longer
        payloads are cut to it as they are read (the rest never stays in memory) and
        their message's ``size`` says how long they were."""
        client = self.client
        clock = client.clock
        client.max_payload = max_payload

        def general(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
            size = client.payload_size(msg)
            handler(message_from_paho(msg, clock, size, client.max_payload))

        client.deliver = handler
        client.on_message = general

    def on_published(self, handler: Callable[[int, Reason], None] | None) -> None:
        """Call ``handler(mid, reason)`` when a publish is complete: QoS 0 once it is
        written, QoS 1 on PUBACK, QoS 2 on PUBCOMP. Without one (``None``), answers
        are kept for :meth:`wait_published`."""
        self._on_published = handler

    def halt(self) -> None:
        """Stop reading: :meth:`step` returns as soon as the current message is handled."""
        self.client.halted = True

    @property
    def halted(self) -> bool:
        """:meth:`halt` was called: the client's ``halted``, which its batches heed."""
        return self.client.halted

    @property
    def connected(self) -> bool:
        return self.client.socket() is not None

    def step(
        self,
        timeout: float,
        *,
        watch: Sequence[int] = (),
        on_idle: Callable[[], None] | None = None,
    ) -> list[int]:
        """Move the connection on once: send what is queued, read what has arrived
        (waiting up to ``timeout`` s if nothing has), answer keepalives. ``on_idle``
        runs just before waiting, when nothing at all is ready. Returns the file
        descriptors of ``watch`` that are readable. Raises :class:`LinkError` if the
        connection is lost."""
        client = self.client
        sock = client.socket()
        if sock is None:
            self._raise_lost()
        if client.want_write():
            self._check(client.loop_write())
        ready: list[int] = []
        if client.has_read_ahead:
            if watch:
                ready = select.select(list(watch), [], [], 0)[0]
            self._drain()
        else:
            rlist: list[Any] = [sock, *watch]
            wlist = [sock] if client.want_write() else []
            readable, writable, _ = select.select(rlist, wlist, [], 0)
            if not readable and not writable and timeout > 0:
                if on_idle is not None:
                    on_idle()
                readable, writable, _ = select.select(rlist, wlist, [], timeout)
            if writable:
                self._check(client.loop_write())
            ready = [fd for fd in readable if fd is not sock]
            if sock in readable:
                self._drain()
        if client.socket() is not None:
            self._check(client.loop_misc())
        return ready

    def _drain(self) -> None:
        client, budget = self.client, _DRAIN_BUDGET
        while budget > 0:
            client.would_block = False
            client.batched = 0
            self._check(client.loop_read())
            if client.would_block or client.halted or client.socket() is None:
                return
            budget -= client.batched or 1

    def _check(self, rc: MQTTErrorCode) -> None:
        if rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            return
        self._raise_lost(None if rc == MQTTErrorCode.MQTT_ERR_CONN_LOST else paho.error_string(rc))

    def _raise_lost(self, detail: str | None = None) -> NoReturn:
        reason = self._lost or detail or "the broker closed the connection"
        failure = describe_failure(ConnectionError(reason), self.settings)
        raise LinkError(failure.reason)

    def wait_for(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        """Step until ``done()``; :class:`LinkError` naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoAnswer(f"no {what} from {self.settings.broker.label} (timed out)")
            try:
                self.step(min(left, 1.0))
            except LinkError:
                # What we waited for came, then the connection closed: mosquitto 2.0
                # does so after refusing a QoS 1 publish when max_queued_messages is 0.
                if done():
                    return
                raise

    # --- requests ------------------------------------------------------------------

    def subscribe(self, filters: Sequence[str], qos: int, *, rap: bool = False) -> list[Reason]:
        """Subscribe and wait for the SUBACK; returns its codes (the QoS granted to
        each filter). :class:`LinkError` if the broker refuses any filter. ``rap``
        (retain as published, MQTT 5): live messages keep their retain flag."""
        v5 = self.protocol is Protocol.V5
        opts = SubscribeOptions(qos, retainAsPublished=True) if rap and v5 else qos
        codes = self.try_subscribe([(f, opts) for f in filters])
        for topic_filter, code in zip(filters, codes, strict=False):
            if code.is_failure:
                raise LinkError(
                    f"{self.settings.broker.label} refused the subscription to "
                    f"{topic_filter!r}: {code}",
                    fatal=True,
                )
        return codes

    def try_subscribe(self, subscriptions: Sequence[tuple[str, int | Any]]) -> list[Reason]:
        """Subscribe to each (filter, QoS or paho's SubscribeOptions) and wait for the
        SUBACK; returns its codes, refusals included."""
        rc, mid = self.client.subscribe(list(subscriptions))
        self._check(rc)
        assert mid is not None
        self.wait_for(lambda: mid in self._acks, self.settings.connect_timeout, "SUBACK")
        return self._acks.pop(mid)

    def unsubscribe(self, filters: Sequence[str]) -> None:
        rc, mid = self.client.unsubscribe(list(filters))
        self._check(rc)
        assert mid is not None
        self.wait_for(lambda: mid in self._acks, self.settings.connect_timeout, "UNSUBACK")
        self._acks.pop(mid)

    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool,
        properties: PublishProperties | MappedProperties | None = None,
    ) -> int:
        """Queue one message and start sending it; returns its mid for
        :meth:`on_published`. ``properties`` are left out with MQTT 3.1.1."""
        props = None
        if properties is not None and self.protocol is Protocol.V5:
            props = properties.paho()
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            self._raise_lost()
        return info.mid

    def publish_and_wait(
        self,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool,
        properties: PublishProperties | MappedProperties | None = None,
    ) -> Reason:
        """Publish one message and wait until it is complete (see
        :meth:`on_published`, which must not be set); returns the broker's answer."""
        mid = self.publish(topic, payload, qos, retain, properties)
        return self.wait_published([mid])[mid]

    def wait_published(self, mids: Sequence[int]) -> dict[int, Reason]:
        """Wait until each publish of ``mids`` is complete (no :meth:`on_published`
        handler set); returns the broker's answers by mid. :class:`NoAnswer` after
        twice the connect timeout."""
        published = self._published
        timeout = self.settings.connect_timeout * 2
        self.wait_for(lambda: all(m in published for m in mids), timeout, "acknowledgement")
        return {m: published.pop(m) for m in mids}

    def allowed_qos(self, topic: str) -> int:
        """The highest QoS the broker takes for ``topic``, so nothing is published
        above it (NATS drops the connection on a QoS 2 PUBLISH). MQTT 5: the CONNACK
        said. MQTT 3.1.1: subscribe to ``topic`` at QoS 2 and unsubscribe; what the
        SUBACK grants is the answer, at the cost of one round trip. A refused probe
        (an ACL) tells nothing: 2."""
        if self.max_qos is not None:
            return self.max_qos
        codes = self.try_subscribe([(topic, 2)])
        self.unsubscribe([topic])
        granted = granted_qos(codes[0]) if codes else None
        self.max_qos = 2 if granted is None else granted
        return self.max_qos

    def close(self) -> None:
        """Send DISCONNECT (best effort, briefly) and close the socket."""
        client = self.client
        if client.socket() is None:
            return
        client.disconnect()
        deadline = time.monotonic() + _CLOSE_WAIT
        try:
            while client.socket() is not None and client.want_write():
                if time.monotonic() > deadline:
                    break
                self.step(0.1)
        except LinkError:
            pass
        finally:
            sock = client.socket()
            if sock is not None:
                sock.close()


def open_link(
    settings: Settings,
    protocol: ProtocolChoice | None = None,
    *,
    role: str,
    clock: Callable[[], float] = time.time,
    client_id: str | None = None,
) -> Link:
    """Connect with a clean session and a random client id ``mqchat-<role>-…`` (or
    ``client_id``: a clean start under that id discards the session the broker kept
    for it, see :func:`discard_session`), over
    TLS and/or WebSockets as the URL says, with the version ``protocol`` chooses
    (default: the settings', else MQTT 5 and 3.1.1 if the broker refuses 5; the
    choice remembers a fallback for later links). The login is
    ``settings.mqtt_username`` (none when empty: anonymous). ``clock`` stamps each
    message's receive time. Raises :class:`LinkError` with the same words as the
    chat's connection failures."""
    choice = protocol or ProtocolChoice.of(settings)
    try:
        while True:
            try:
                return _connect(settings, choice.current, role, clock, client_id)
            except MqttError as exc:
                if not choice.fall_back(exc):
                    raise
    except (MqttError, OSError, TlsSetupError) as exc:
        failure = describe_failure(exc, settings)
        code = exc.code if isinstance(exc, MqttError) else None
        raise LinkError(failure.reason, fatal=failure.fatal, code=code) from None


def _connect(
    settings: Settings,
    protocol: Protocol,
    role: str,
    clock: Callable[[], float],
    client_id: str | None = None,
) -> Link:
    options = client_options(settings, protocol, role=role)
    if client_id is not None:
        options = dataclasses.replace(options, client_id=client_id)
    client = new_paho(FastPaho, options)
    client.clock = clock
    socket_error = watch_socket_errors(client)
    connack: list[ReasonCode] = []
    link = Link(client, settings, protocol)

    def on_connect(_c: object, _u: object, _f: object, reason: ReasonCode, props: Any) -> None:
        connack.append(reason)
        link.max_qos = connack_max_qos(props if protocol is Protocol.V5 else None)

    client.on_connect = on_connect
    connect_paho(client, options)
    deadline = time.monotonic() + settings.connect_timeout
    try:
        while not connack:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no CONNACK")
            link.step(min(left, 1.0))
    except LinkError:
        if not connack:
            mqtt5 = protocol is Protocol.V5
            raise ClosedBeforeConnack(socket_error(), mqtt5=mqtt5) from None
    finally:
        client.on_log = None  # see watch_socket_errors
        if not connack or connack[0].is_failure:
            sock = client.socket()
            if sock is not None:
                sock.close()
    if connack[0].is_failure:
        raise MqttError(str(connack[0]), code=int(connack[0].value))
    return link
