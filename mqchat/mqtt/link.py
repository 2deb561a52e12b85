"""Blocking MQTT connections for the headless commands (``sub``, ``pub``,
``clear-retained``): paho-mqtt driven by a select loop in the calling thread, no
asyncio. A flood drains several times faster this way than through aiomqtt (FACTS.md),
and a script needs nothing more than one connection that it drives step by step."""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.config.settings import Settings
from mqchat.mqtt.closed_early import ClosedBeforeConnack, watch_socket_errors
from mqchat.mqtt.connection import (
    Protocol,
    describe_failure,
    forced_protocol,
    refuses_protocol,
)
from mqchat.mqtt.paho_client import FastClient, connect_client, new_client
from mqchat.mqtt.qos_limit import connack_max_qos
from mqchat.mqtt.tls import TlsSetupError

__all__ = ["Link", "LinkError", "MessageHandler", "open_link"]

MessageHandler = Callable[[mqtt.MQTTMessage], None]

_READ_AHEAD = 256 * 1024
_DRAIN_BUDGET = 2000  # packets read in a row before the clock and keepalive are looked at
_CLOSE_WAIT = 2.0


class LinkError(Exception):
    """A connection that could not be made, or was lost, as one line a person can act
    on (the same words as the chat's). ``fatal``: trying again cannot help."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


class _ReadAheadClient(FastClient):
    """paho tuned for a flood of small messages, ~2x faster than stock paho here.

    * paho reads each packet with three or more ``recv()`` calls of a few bytes; this
      client serves them from one large ``recv()``. ``would_block`` tells the loop that
      the socket ran dry, ``has_read_ahead`` that bytes are waiting in the buffer.
    * A QoS 0 PUBLISH without MQTT 5 properties takes :class:`FastClient`'s short
      decoding path.

    ``_sock_recv`` is a private hook of paho-mqtt 2.x, as FastClient's are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ahead = b""
        self._ahead_pos = 0
        self.would_block = False

    def _sock_recv(self, bufsize: int) -> bytes:
        ahead, pos = self._ahead, self._ahead_pos
        if pos >= len(ahead):
            try:
                ahead = super()._sock_recv(_READ_AHEAD)
            except BlockingIOError:
                self.would_block = True
                raise
            if not ahead:
                return ahead  # the broker closed the connection
            pos = 0
        chunk = ahead[pos : pos + bufsize]
        self._ahead, self._ahead_pos = ahead, pos + len(chunk)
        return chunk

    @property
    def has_read_ahead(self) -> bool:
        """Bytes already read from the socket and not yet handed to paho: the socket
        will not signal them again, so the loop must not wait in select(). With TLS
        that includes what OpenSSL has decrypted and not yet returned."""
        if self._ahead_pos < len(self._ahead):
            return True
        pending = getattr(self._sock, "pending", None)
        return pending is not None and bool(pending())


class Link:
    """One connected client. Made by :func:`open_link`; driven by :meth:`step`, which
    the caller repeats until it has what it wants."""

    def __init__(self, client: _ReadAheadClient, settings: Settings, protocol: Protocol) -> None:
        self.client = client
        self.settings = settings
        self.protocol = protocol
        self.halted = False
        self._acks: dict[int, list[ReasonCode]] = {}
        self._on_published: Callable[[int, ReasonCode], None] | None = None
        self._lost: str | None = None
        self.max_qos: int | None = None
        """The highest QoS the broker takes, once known (qos_limit.py)."""
        client.on_subscribe = self._on_suback
        client.on_unsubscribe = self._on_suback
        client.on_publish = self._on_puback
        client.on_disconnect = self._on_disconnect

    # --- callbacks (run inside paho's loop_read) ---------------------------------

    def _on_suback(
        self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._acks[mid] = list(codes)

    def _on_puback(self, _c: object, _u: object, mid: int, code: ReasonCode, _p: object) -> None:
        if self._on_published is not None:
            self._on_published(mid, code)

    def _on_disconnect(
        self, _c: object, _u: object, flags: mqtt.DisconnectFlags, code: ReasonCode, _p: object
    ) -> None:
        if flags.is_disconnect_packet_from_server and code.is_failure:
            self._lost = str(code)  # the broker's own words (MQTT 5 DISCONNECT)

    # --- driving the connection ----------------------------------------------------

    def on_message(self, handler: MessageHandler) -> None:
        """Call ``handler`` for every message, inside :meth:`step`. To stop reading
        at once (``-C`` reached), it calls :meth:`halt`."""
        self.client.on_message = lambda _c, _u, msg: handler(msg)

    def on_published(self, handler: Callable[[int, ReasonCode], None]) -> None:
        """Call ``handler(mid, reason)`` when a publish is complete: QoS 0 once it is
        written, QoS 1 on PUBACK, QoS 2 on PUBCOMP."""
        self._on_published = handler

    def halt(self) -> None:
        """Stop reading: :meth:`step` returns as soon as the current message is handled."""
        self.halted = True

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
        client = self.client
        for _ in range(_DRAIN_BUDGET):
            client.would_block = False
            self._check(client.loop_read())
            if client.would_block or self.halted or client.socket() is None:
                return

    def _check(self, rc: MQTTErrorCode) -> None:
        if rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            return
        self._raise_lost(None if rc == MQTTErrorCode.MQTT_ERR_CONN_LOST else mqtt.error_string(rc))

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
                raise LinkError(f"no {what} from {self.settings.broker.label} (timed out)")
            try:
                self.step(min(left, 1.0))
            except LinkError:
                # What we waited for came, then the connection closed: mosquitto 2.0
                # does so after refusing a QoS 1 publish when max_queued_messages is 0.
                if done():
                    return
                raise

    # --- requests ------------------------------------------------------------------

    def subscribe(self, filters: Sequence[str], qos: int) -> list[ReasonCode]:
        """Subscribe and wait for the SUBACK; returns its codes (the QoS granted to
        each filter). :class:`LinkError` if the broker refuses any filter."""
        codes = self.try_subscribe(filters, qos)
        for topic_filter, code in zip(filters, codes, strict=False):
            if code.is_failure:
                raise LinkError(
                    f"{self.settings.broker.label} refused the subscription to "
                    f"{topic_filter!r}: {code}",
                    fatal=True,
                )
        return codes

    def try_subscribe(self, filters: Sequence[str], qos: int) -> list[ReasonCode]:
        """Subscribe and wait for the SUBACK; returns its codes, refusals included."""
        rc, mid = self.client.subscribe([(f, qos) for f in filters])
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

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> int:
        """Queue one message and start sending it; returns its mid for
        :meth:`on_published`."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            self._raise_lost()
        return info.mid

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


def open_link(settings: Settings, protocol: Protocol | None = None, *, role: str) -> Link:
    """Connect with a clean session and a random client id ``mqchat-<role>-…``, over
    TLS and/or WebSockets as the URL says. Without ``protocol`` (nor
    ``settings.mqtt_version``): MQTT 5, then 3.1.1 if the broker refuses version 5.
    The login is ``settings.mqtt_username`` (none when empty: anonymous). Raises
    :class:`LinkError` with the same words as the chat's connection failures."""
    protocol = protocol or forced_protocol(settings)
    try:
        try:
            return _connect(settings, protocol or Protocol.V5, role)
        except aiomqtt.MqttError as exc:
            if protocol is not None or not refuses_protocol(exc):
                raise
        return _connect(settings, Protocol.V311, role)
    except (aiomqtt.MqttError, OSError, TlsSetupError) as exc:
        failure = describe_failure(exc, settings)
        raise LinkError(failure.reason, fatal=failure.fatal) from None


def _connect(settings: Settings, protocol: Protocol, role: str) -> Link:
    client = new_client(_ReadAheadClient, settings, protocol, role)
    socket_error = watch_socket_errors(client)
    connack: list[ReasonCode] = []
    link = Link(client, settings, protocol)

    def on_connect(_c: object, _u: object, _f: object, reason: ReasonCode, props: Any) -> None:
        connack.append(reason)
        link.max_qos = connack_max_qos(props if protocol is Protocol.V5 else None)

    client.on_connect = on_connect
    connect_client(client, settings, protocol)
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
        raise aiomqtt.MqttCodeError(connack[0])
    return link


def properties_of(message: mqtt.MQTTMessage) -> dict[str, object]:
    """A message's MQTT 5 properties by paho's names (``ContentType``,
    ``UserProperty``…); empty with 3.1.1 or when it has none."""
    props: Properties | None = getattr(message, "properties", None)
    if props is None:
        return {}
    data: dict[str, object] = props.json()  # type: ignore[no-untyped-call]
    return data
