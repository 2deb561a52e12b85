"""The broker's answer to a QoS 1 publish. With MQTT 5 a PUBACK carries a reason code,
and a broker with an ACL answers "not authorized" (0x87) to a message it drops;
aiomqtt 2.x's ``publish()`` ignores that code and returns as if all went well. Here
it becomes :class:`PublishRefused`, so a refused chat message is shown as failed,
not as sent.

It wraps two private parts of aiomqtt (``_client``: paho's client, and its
``on_publish``), as manual_ack.py does; tests/broker/test_deploy_broker.py fails if an
aiomqtt upgrade moves them."""

from __future__ import annotations

import contextvars
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["PublishRefused", "publish_checked", "watch_refusals"]

_REFUSALS_KEPT = 256
_mids: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "mqchat_publish_mids", default=None
)


class PublishRefused(Exception):
    """The broker took the message and dropped it, saying why (``reason``, e.g. "Not
    authorized"). Not an :class:`aiomqtt.MqttError`: the connection is fine, and
    sending the same message again would be refused again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def watch_refusals(client: aiomqtt.Client) -> None:
    """Keep the failing PUBACK reason codes of ``client``, for :func:`publish_checked`.
    Call once, before connecting (``make_client`` does)."""
    paho: mqtt.Client = client._client
    refused: dict[int, ReasonCode] = {}
    setattr(client, "_mqchat_refused", refused)  # noqa: B010 - ours, on their object
    on_publish: Any = paho.on_publish  # aiomqtt's, set in its __init__
    publish = paho.publish

    def on_publish_checked(
        c: mqtt.Client, userdata: Any, mid: int, code: ReasonCode, props: Properties
    ) -> None:
        if code.is_failure:
            if len(refused) >= _REFUSALS_KEPT:  # answers nobody asked about any more
                refused.pop(next(iter(refused)))
            refused[mid] = code
        on_publish(c, userdata, mid, code, props)

    def publish_noting_mid(*args: Any, **kwargs: Any) -> mqtt.MQTTMessageInfo:
        info = publish(*args, **kwargs)
        mids = _mids.get()
        if mids is not None:  # inside publish_checked, in this task
            mids.append(info.mid)
        return info

    paho.on_publish = on_publish_checked
    paho.publish = publish_noting_mid  # type: ignore[method-assign]


async def publish_checked(
    client: aiomqtt.Client,
    topic: str,
    payload: bytes,
    *,
    qos: int = 1,
    retain: bool = False,
    properties: Properties | None = None,
) -> None:
    """``client.publish`` that raises :class:`PublishRefused` when the broker's PUBACK
    refuses the message (MQTT 5, QoS 1). A client made without
    :func:`watch_refusals` publishes unchecked."""
    refused: dict[int, ReasonCode] | None = getattr(client, "_mqchat_refused", None)
    mids: list[int] = []
    token = _mids.set(mids)
    try:
        await client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
    finally:
        _mids.reset(token)
    if refused is None:
        return
    for mid in mids:
        code = refused.pop(mid, None)
        if code is not None:
            raise PublishRefused(str(code))
