"""An asyncio connection for the chat and the one-shot commands, on aiomqtt: publish
with the broker's verdict, subscribe, read, acknowledge after storing. Every failure
leaves as :class:`~mqchat.mqtt.errors.MqttError` (or ``PublishRefused``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.config.settings import Settings
from mqchat.mqtt import shims
from mqchat.mqtt.connack import watch_connack
from mqchat.mqtt.errors import ClosedBeforeConnack, MqttError, PublishRefused, Reason
from mqchat.mqtt.factory import client_options, new_aiomqtt
from mqchat.mqtt.incoming import Incoming, Will
from mqchat.mqtt.protocol import Protocol
from mqchat.mqtt.quick_properties import QuickProperties

__all__ = ["Incoming", "PacketTooLarge", "Session", "Will", "open_session", "publish_size"]

JSON = "application/json"


class PacketTooLarge(PublishRefused):
    """The broker said in its CONNACK that it takes no packet this large: sending it
    would only get the connection dropped."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"too large for the broker: {size:,} bytes, it takes at most {limit:,}")
        self.size, self.limit = size, limit


def _varint_len(n: int) -> int:
    return 1 if n < 128 else 2 if n < 16_384 else 3 if n < 2_097_152 else 4


def publish_size(topic: str, payload: bytes, *, qos: int, content_type: str | None) -> int:
    """The bytes of the PUBLISH packet for these (``content_type``: MQTT 5 only,
    ``None`` for 3.1.1 or no property)."""
    remaining = 2 + len(topic.encode()) + (2 if qos else 0) + len(payload)
    if content_type is not None:
        props = 1 + 2 + len(content_type.encode())
        remaining += _varint_len(props) + props
    return 1 + _varint_len(remaining) + remaining


def _translated(exc: aiomqtt.MqttError) -> MqttError:
    """aiomqtt's error as ours. A lost connection arrives as "Disconnected during
    message iteration" with the broker's reason (e.g. session taken over) as its
    cause: that reason is what counts."""
    cause = exc.__cause__
    if isinstance(cause, aiomqtt.MqttError) and not isinstance(exc, aiomqtt.MqttCodeError):
        exc = cause
    if isinstance(exc, shims.ClosedEarly):
        return ClosedBeforeConnack(exc.socket_error, mqtt5=exc.mqtt5)
    code: int | None = None
    if isinstance(exc, aiomqtt.MqttCodeError):
        rc: Any = exc.rc
        code = int(rc.value if isinstance(rc, ReasonCode) else rc)
    return MqttError(str(exc), code=code)


def _unchanged(_topic: str, payload: bytes) -> bytes:
    return payload


class Session:
    """One open connection. Made by :func:`open_session`."""

    def __init__(self, client: aiomqtt.Client, protocol: Protocol, *, manual_ack: bool) -> None:
        self._client = client
        self.protocol = protocol
        self._manual_ack = manual_ack
        self._refused = shims.watch_refusals(client)
        self._pubacks = shims.Pubacks(client)
        self._connack = watch_connack(client)
        self._json: Properties | None = None
        self.before_publish: Callable[[str, bytes], bytes] = _unchanged
        """What JSON payloads become on their way out, by topic (the chat seals its
        envelopes here: chat/encryption.py)."""
        if protocol is Protocol.V5:
            self._json = QuickProperties(PacketTypes.PUBLISH)  # packed once, then remembered
            self._json.ContentType = JSON

    @property
    def session_present(self) -> bool:
        """The broker resumed our session (subscriptions, what it queued for us)."""
        return bool(self._connack.session_present)

    @property
    def max_packet_size(self) -> int | None:
        """The largest packet the broker takes, when its CONNACK said (MQTT 5)."""
        return self._connack.max_packet_size

    @property
    def connack_properties(self) -> dict[str, Any] | None:
        """What the broker's MQTT 5 CONNACK said, by paho's property names
        (``MaximumQoS``, ``RetainAvailable``…); ``None`` with 3.1.1."""
        return self._connack.properties

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, json: bool = True
    ) -> None:
        """Publish and, for QoS 1, wait for the PUBACK. ``json``: say so in the MQTT 5
        content type. Raises :class:`PublishRefused` when the broker's PUBACK refuses
        the message (MQTT 5 only tells), :class:`PacketTooLarge` (a ``PublishRefused``)
        without sending when it is larger than the broker takes, :class:`MqttError`
        when the connection fails."""
        if json and payload:
            payload = self.before_publish(topic, payload)
        self._check_size(topic, payload, qos=qos, json=json)
        try:
            refusal = await shims.publish_noting_refusals(
                self._client,
                self._refused,
                topic,
                payload,
                qos=qos,
                retain=retain,
                properties=self._json if json else None,
            )
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc
        if refusal is not None:
            raise PublishRefused(str(refusal))

    def publish_soon(self, topic: str, payload: bytes) -> asyncio.Future[None]:
        """A JSON payload at QoS 1, handed to paho now, so PUBLISHes go out in the
        order of the calls, several awaiting their PUBACK at once. The future ends
        with the PUBACK, or with what :meth:`publish` would raise."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            payload = self.before_publish(topic, payload)
            self._check_size(topic, payload, qos=1, json=True)
            answer = self._pubacks.publish(topic, payload, self._json)
        except PublishRefused as exc:
            done.set_exception(exc)
            return done
        except aiomqtt.MqttError as exc:
            done.set_exception(_translated(exc))
            return done

        def passed_on(answer: asyncio.Future[ReasonCode | None]) -> None:
            if done.done():
                return
            if answer.cancelled():
                done.cancel()
            elif (code := answer.result()) is not None:
                done.set_exception(PublishRefused(str(code)))
            else:
                done.set_result(None)

        answer.add_done_callback(passed_on)
        return done

    def _check_size(self, topic: str, payload: bytes, *, qos: int, json: bool) -> None:
        limit = self._connack.max_packet_size
        if limit is not None:
            size = publish_size(
                topic,
                payload,
                qos=qos,
                content_type=JSON if json and self._json is not None else None,
            )
            if size > limit:
                raise PacketTooLarge(size, limit)

    async def subscribe(self, topic_filter: str, qos: int) -> None:
        try:
            await self._client.subscribe(topic_filter, qos=qos)
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc

    async def subscribe_many(self, filters: list[tuple[str, int]]) -> None:
        """Several (filter, QoS) in one SUBSCRIBE: one round trip for them all."""
        try:
            await self._client.subscribe(filters)
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc

    async def try_subscribe(self, filters: list[tuple[str, int]]) -> list[Reason]:
        """Several (filter, QoS) in one SUBSCRIBE; the SUBACK's code for each (the QoS
        granted, or the refusal: nothing raised for a refused filter)."""
        try:
            codes = await self._client.subscribe(filters)
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc
        return [
            Reason(int(c.value), str(c)) if isinstance(c, ReasonCode) else Reason(int(c), str(c))
            for c in codes
        ]

    async def unsubscribe(self, topic_filter: str) -> None:
        try:
            await self._client.unsubscribe(topic_filter)
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc

    async def messages(self) -> AsyncIterator[Incoming]:
        """Every message that arrives, until the connection ends (then
        :class:`MqttError`, with the broker's reason when it gave one). With manual
        acknowledgement, QoS 1 messages carry the ``mid`` that :meth:`ack` needs."""
        try:
            async for first in self._client.messages:
                # and those that came with it, without a turn of the loop each
                for m in [first, *shims.take_queued(self._client)]:
                    payload = m.payload if isinstance(m.payload, bytes) else str(m.payload).encode()
                    yield Incoming(m.topic.value, payload, m.qos, m.retain, m.mid)
        except aiomqtt.MqttError as exc:
            raise _translated(exc) from exc

    def drop(self) -> None:
        """End the connection now without a DISCONNECT, so the broker publishes the
        Will (for a crash; a normal end leaves :func:`open_session`'s block)."""
        shims.drop_connection(self._client)

    def ack(self, message: Incoming) -> None:
        """Send the PUBACK of ``message`` now that it is safe (manual acknowledgement
        only; nothing for QoS 0). Until then the broker keeps it and delivers it
        again on the session's next connection."""
        if self._manual_ack:
            shims.acknowledge(self._client, message.mid, message.qos)


@asynccontextmanager
async def open_session(
    settings: Settings,
    protocol: Protocol,
    *,
    will: Will | None = None,
    session_id: str | None = None,
    manual_ack: bool = False,
    max_incoming: int | None = None,
) -> AsyncIterator[Session]:
    """Connect (TCP, TLS or WebSocket as the broker URL says) and disconnect on exit.
    With ``session_id`` the broker-side session of that client id is resumed (see
    :func:`~mqchat.mqtt.factory.client_options`); with ``manual_ack`` nothing is
    acknowledged until :meth:`Session.ack`; ``max_incoming``: the largest packet we
    take (MQTT 5). Must be used inside the running loop.

    Leaving the block normally sends a DISCONNECT (the broker discards the Will);
    leaving it on an exception, a cancellation included, drops the connection
    without one, so the broker publishes the Will: a crash never looks like a clean
    quit. Raises :class:`MqttError`, and ``TlsSetupError`` when the TLS files cannot
    be used."""
    options = client_options(settings, protocol, session_id=session_id, max_incoming=max_incoming)
    client = new_aiomqtt(
        options,
        None if will is None else aiomqtt.Will(will.topic, will.payload, will.qos, will.retain),
    )
    shims.fail_fast_before_connack(client)
    shims.read_all_waiting(client)
    shims.no_wakeup_pipe(client)
    if manual_ack:
        shims.enable_manual_ack(client)
    session = Session(client, protocol, manual_ack=manual_ack)
    try:
        async with client:
            try:
                yield session
            except BaseException:
                shims.drop_connection(client)
                raise
    except aiomqtt.MqttError as exc:
        raise _translated(exc) from exc
