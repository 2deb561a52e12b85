"""Every use of aiomqtt's and paho-mqtt's private parts, in one place.

Each exists because the public API lacks something mqchat needs (docs/architecture.md,
"Private APIs we touch"). A missing attribute raises :class:`ShimBroken`, which names
the library version, and tests/unit/test_mqtt_shims.py exercises every shim, so an
upgrade that moves them fails loudly here rather than quietly in the chat.

* aiomqtt ``Client._client`` (its paho client): manual acknowledgement, PUBACK
  reason codes, the socket-error watch.
* aiomqtt ``Client._connected`` (the CONNACK future): fail at once when the broker
  hangs up before answering, instead of waiting out the timeout.
* aiomqtt's ``on_connect`` callback on its paho client: the CONNACK's session-present
  flag and Maximum Packet Size, which aiomqtt drops.
* paho ``Client._handle_publish``, ``_in_packet``, ``_protocol``,
  ``_handle_on_message``: a short decoding path for QoS 0 floods
  (:class:`~mqchat.mqtt.fast_paho.FastPaho`, re-exported here).
* paho ``Client._sock_recv``, ``_sock``: one large ``recv()`` for many packets.
* paho ``Client._packet_read``, ``_packet_handle``, ``_easy_log``,
  ``_msgtime_mutex``, ``_last_bytes_received``: a PUBLISH larger than a bound is
  read keeping only its beginning (``FastPaho.max_payload``).
* paho ``Client._packet_read``, ``_in_packet``, ``_msgtime_mutex``,
  ``_last_bytes_received``: QoS 0 floods decoded in batches (``FastPaho._read_batch``).
* paho ``MQTTMessage._topic``: a topic that is not UTF-8 is shown, not a crash.
* paho's WebSocket wrapper ``_socket``: TCP_NODELAY on the real socket.
* paho ``Client._packet_read``, ``_loop_rc_handle``, ``_sock``: read every packet
  that is waiting when the socket is readable, not one per wake-up of the loop
  (:func:`read_all_waiting`).
* paho ``Client._sockpairR``, ``_sockpairW``: closed once connected (:func:`no_wakeup_pipe`).
* paho ``Client.publish`` called directly, and ``on_publish`` wrapped: QoS 1
  publishes without a task each (:class:`Pubacks`).
* aiomqtt ``Client._queue``: take the messages already received at once
  (:func:`take_queued`); aiomqtt's iterator costs a task and turns of the loop for each.
* paho ``_packet.Properties``: what its PUBLISH decoder builds for every MQTT 5
  message, replaced by :class:`~mqchat.mqtt.quick_properties.QuickProperties`."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
from collections.abc import Callable
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt import __version__ as paho_version
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.mqtt.fast_paho import FastPaho
from mqchat.mqtt.quick_properties import QuickProperties

__all__ = [
    "FastPaho",
    "Pubacks",
    "ShimBroken",
    "acknowledge",
    "drop_connection",
    "enable_manual_ack",
    "fail_fast_before_connack",
    "no_wakeup_pipe",
    "publish_noting_refusals",
    "raw_socket",
    "read_all_waiting",
    "take_queued",
    "topic_of",
    "versions",
    "watch_refusals",
    "watch_socket_errors",
]

_READ_FAILED = "failed to receive on socket: "
_REFUSALS_KEPT = 256


def versions() -> str:
    return f"aiomqtt {aiomqtt.__version__}, paho-mqtt {paho_version}"


class ShimBroken(RuntimeError):
    """A private part of aiomqtt or paho that mqchat relies on is gone."""


def _private(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name)
    except AttributeError:
        raise ShimBroken(
            f"{versions()}: {type(obj).__name__}.{name} is gone; mqchat/mqtt/shims.py "
            "needs updating for this version"
        ) from None


for _name in (
    "_loop_rc_handle",
    "_handle_publish",
    "_handle_on_message",
    "_sock_recv",
    "_packet_read",
    "_packet_handle",
    "_easy_log",
):
    if not callable(getattr(paho.Client, _name, None)):  # pragma: no cover - an upgrade
        raise ShimBroken(f"{versions()}: paho Client.{_name} is gone; see mqchat/mqtt/shims.py")

if getattr(_packet, "Properties", None) not in (Properties, QuickProperties):  # pragma: no cover
    raise ShimBroken(f"{versions()}: paho _packet.Properties is gone; see mqchat/mqtt/shims.py")
setattr(_packet, "Properties", QuickProperties)  # noqa: B010 - not exported by paho
QUICK_PROPERTIES_INSTALLED = getattr(_packet, "Properties", None) is QuickProperties


# -- aiomqtt ------------------------------------------------------------------------


def paho_of(client: aiomqtt.Client) -> paho.Client:
    """The paho client inside an aiomqtt one."""
    inner = _private(client, "_client")
    if not isinstance(inner, paho.Client):  # pragma: no cover - an aiomqtt we do not know
        raise ShimBroken(f"{versions()}: aiomqtt Client._client is not a paho client")
    return inner


def enable_manual_ack(client: aiomqtt.Client) -> None:
    """From now on ``client`` sends no PUBACK by itself (call before connecting):
    aiomqtt 2.x has no API for this, paho underneath has."""
    paho_of(client).manual_ack_set(True)


def acknowledge(client: aiomqtt.Client, mid: int, qos: int) -> None:
    """Send the PUBACK of message ``mid`` (nothing for QoS 0). Until then the broker
    keeps the message and delivers it again on the session's next connection."""
    if qos > 0:
        paho_of(client).ack(mid, qos)


class ClosedEarly(aiomqtt.MqttError):
    """Set on aiomqtt's CONNACK future when the broker hangs up first (aiomqtt's own
    type, so aiomqtt cleans up as for any failed connect); the session turns it into
    :class:`~mqchat.mqtt.errors.ClosedBeforeConnack`."""

    def __init__(self, socket_error: str | None, *, mqtt5: bool) -> None:
        super().__init__(socket_error or "closed before CONNACK")
        self.socket_error = socket_error
        self.mqtt5 = mqtt5


def watch_socket_errors(client: paho.Client) -> Callable[[], str | None]:
    """Keep the last reason paho gives for a failed socket read (it reports only "connection
    lost" to callbacks, and the reason, e.g. ``[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED]``,
    to its log). Returns a getter.

    Meant for the connection attempt only: set ``client.on_log = None`` once the CONNACK is
    in, because paho formats every log line, one per packet, for a watcher."""
    seen: list[str] = []

    def on_log(_client: object, _userdata: object, level: int, text: str) -> None:
        if level == paho.MQTT_LOG_ERR and text.startswith(_READ_FAILED):
            seen[:] = [text.removeprefix(_READ_FAILED)]

    client.on_log = on_log
    return lambda: seen[-1] if seen else None


def fail_fast_before_connack(client: aiomqtt.Client) -> None:
    """Make ``async with client`` raise :class:`ClosedEarly` as soon as the broker
    closes the connection before its CONNACK (aiomqtt ignores the close and waits
    out its whole timeout)."""
    inner = paho_of(client)
    last_error = watch_socket_errors(inner)
    on_disconnect: Any = inner.on_disconnect  # aiomqtt's, set in its __init__
    _private(client, "_connected")

    def closed(*args: Any) -> None:
        # paho calls this on its socket callbacks, which aiomqtt runs on the loop.
        waiting = client._connected
        if not waiting.done():
            mqtt5 = inner.protocol == paho.MQTTv5
            waiting.set_exception(ClosedEarly(last_error(), mqtt5=mqtt5))
        on_disconnect(*args)

    on_connect: Any = inner.on_connect

    def answered(*args: Any) -> None:
        inner.on_log = None  # connected: stop watching, see watch_socket_errors
        on_connect(*args)

    inner.on_disconnect = closed
    inner.on_connect = answered


READ_AT_ONCE = 256
"""Packets read in one go at most (then the loop serves others, and comes back)."""


def read_all_waiting(client: aiomqtt.Client) -> None:
    """Each time the socket is readable, read the packets waiting, up to
    :data:`READ_AT_ONCE`. aiomqtt calls paho's ``loop_read``, which reads one packet
    (when no QoS 2 exchange is open), so a burst took one turn of the event loop per
    packet, and a turn is as long as whatever else runs in it."""
    inner = paho_of(client)
    read_packet = _private(inner, "_packet_read")
    handle_rc = _private(inner, "_loop_rc_handle")
    _private(inner, "_sock")

    def loop_read(max_packets: int = 1) -> MQTTErrorCode:
        for _ in range(max(max_packets, READ_AT_ONCE)):
            if inner._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = read_packet()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break  # nothing more waiting
            if rc > 0:
                return handle_rc(rc)  # type: ignore[no-any-return]
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    inner.loop_read = loop_read  # type: ignore[method-assign]


def no_wakeup_pipe(client: aiomqtt.Client) -> None:
    """Once connected, close paho's wake-up socket pair. paho writes a byte to it for
    every packet it queues, to wake its own ``select()`` loop, which aiomqtt does not
    run (nobody reads it): a wasted system call per packet sent, a PUBACK included."""
    inner = paho_of(client)
    _private(inner, "_sockpairW")
    on_connect: Any = inner.on_connect  # aiomqtt's, or a shim's wrapping it

    def connected(*args: Any) -> None:
        for name in ("_sockpairR", "_sockpairW"):
            pipe = getattr(inner, name)
            if pipe is not None:
                setattr(inner, name, None)
                with contextlib.suppress(OSError):
                    pipe.close()
        on_connect(*args)

    inner.on_connect = connected


def take_queued(client: aiomqtt.Client) -> list[aiomqtt.Message]:
    """The messages aiomqtt has received and not handed out yet, in order, taken off
    its queue (``client.messages`` waits for them one at a time, each with a task
    of its own and a few turns of the event loop)."""
    queue: asyncio.Queue[aiomqtt.Message] = _private(client, "_queue")
    taken: list[aiomqtt.Message] = []
    while True:
        try:
            taken.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            return taken


def drop_connection(client: aiomqtt.Client) -> None:
    """End the connection without a DISCONNECT, as a crash would, so the broker
    publishes our Will (a DISCONNECT makes it discard the Will). aiomqtt's exit then
    finds the socket closed."""
    sock = raw_socket(paho_of(client).socket())
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_mids: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "mqchat_publish_mids", default=None
)


def watch_refusals(client: aiomqtt.Client) -> dict[int, ReasonCode]:
    """Keep the failing PUBACK reason codes of ``client`` (aiomqtt 2.x drops them),
    by packet id, for :func:`publish_noting_refusals`. Call once, before connecting."""
    inner = paho_of(client)
    refused: dict[int, ReasonCode] = {}
    on_publish: Any = inner.on_publish  # aiomqtt's, set in its __init__
    publish = inner.publish

    def on_publish_checked(
        c: paho.Client, userdata: Any, mid: int, code: ReasonCode, props: Properties
    ) -> None:
        if code.is_failure:
            if len(refused) >= _REFUSALS_KEPT:  # answers nobody asked about any more
                refused.pop(next(iter(refused)))
            refused[mid] = code
        on_publish(c, userdata, mid, code, props)

    def publish_noting_mid(*args: Any, **kwargs: Any) -> paho.MQTTMessageInfo:
        info = publish(*args, **kwargs)
        mids = _mids.get()
        if mids is not None:  # inside publish_noting_refusals, in this task
            mids.append(info.mid)
        return info

    inner.on_publish = on_publish_checked
    inner.publish = publish_noting_mid  # type: ignore[method-assign]
    return refused


class Pubacks:
    """QoS 1 publishes handed to paho at once, each with a future for its PUBACK. aiomqtt's
    ``publish()`` spends an event, a task and a timeout on each, which is most of what a
    message costs in a burst; and calling paho directly makes the order of the PUBLISHes
    the order of the calls. Make it before connecting, after :func:`watch_refusals`."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._inner = inner = paho_of(client)
        self._waiting: dict[int, asyncio.Future[ReasonCode | None]] = {}
        on_publish: Any = inner.on_publish

        def answered(
            c: paho.Client, userdata: Any, mid: int, code: ReasonCode, props: Properties
        ) -> None:
            waiting = self._waiting.pop(mid, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(code if code.is_failure else None)
            on_publish(c, userdata, mid, code, props)

        inner.on_publish = answered

    def publish(
        self, topic: str, payload: bytes, properties: Properties | None
    ) -> asyncio.Future[ReasonCode | None]:
        """Queue a QoS 1 PUBLISH in paho now; the future ends with the PUBACK: the
        refusing reason code (MQTT 5), or ``None``. Raises ``aiomqtt.MqttCodeError``
        when paho cannot take it (not connected)."""
        info = self._inner.publish(topic, payload, 1, False, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        answer: asyncio.Future[ReasonCode | None] = asyncio.get_running_loop().create_future()
        if info.is_published():  # answered already (only if paho wrote and read at once)
            answer.set_result(None)
        else:
            self._waiting[info.mid] = answer
        return answer


async def publish_noting_refusals(
    client: aiomqtt.Client,
    refused: dict[int, ReasonCode],
    topic: str,
    payload: bytes,
    **kwargs: Any,
) -> ReasonCode | None:
    """``client.publish``, then the broker's refusal of it (a failing MQTT 5 PUBACK
    code) or ``None``. ``refused`` comes from :func:`watch_refusals`."""
    mids: list[int] = []
    token = _mids.set(mids)
    try:
        await client.publish(topic, payload, **kwargs)
    finally:
        _mids.reset(token)
    for mid in mids:
        code = refused.pop(mid, None)
        if code is not None:
            return code
    return None


# -- paho ---------------------------------------------------------------------------


def topic_of(msg: paho.MQTTMessage) -> str:
    """The topic; one that is not UTF-8 (a broker should refuse it) is shown with
    replacement characters instead of raising."""
    try:
        return msg.topic
    except UnicodeDecodeError:
        raw: bytes = _private(msg, "_topic")
        return raw.decode("utf-8", "replace")


def raw_socket(sock: object) -> socket.socket | None:
    """The TCP socket under paho's socket: an SSLSocket is one; paho's WebSocket
    wrapper is not, but holds one."""
    raw = getattr(sock, "_socket", sock)
    return raw if isinstance(raw, socket.socket) else None
