"""``mqchat devices``: the user's devices as their retained records say, read on a
one-shot connection (protocol v2, docs/protocol.md#devices); and ``mqchat devices
forget``, which discards a device's session at the broker and clears its record and
its keys, so nothing more is queued or sealed for it and the other devices stop
copying to it."""

from __future__ import annotations

from dataclasses import dataclass

from mqchat.config.settings import Settings
from mqchat.core.devices import (
    DeviceRecord,
    Devices,
    decode_device,
    session_client_id,
    why_not_forget,
)
from mqchat.core.topics import device_topic, devices_filter, keys_topic, parse_topic
from mqchat.core.wire import EnvelopeError
from mqchat.mqtt.errors import LinkError
from mqchat.mqtt.forget import discard_session
from mqchat.mqtt.link import Link, open_link
from mqchat.mqtt.protocol import ProtocolChoice
from mqchat.mqtt.retained import retained_payloads

__all__ = ["ForgetRefused", "Forgotten", "forget_device", "list_devices"]

SETTLE = 0.3
"""Records come right after the SUBACK: the list is complete once none came for this
many seconds."""


class ForgetRefused(Exception):
    """The device must not be forgotten; the text says why, in one line."""


@dataclass(frozen=True, slots=True)
class Forgotten:
    device: str
    record: DeviceRecord | None
    """Its record before it was cleared (``None``: it had none)."""


def list_devices(settings: Settings, *, me: str | None = None) -> list[DeviceRecord]:
    """The user's devices, ``me`` (this data dir's device) first, then online ones,
    then the most recently seen. Raises :class:`LinkError`."""
    link = open_link(settings, ProtocolChoice.of(settings), role="devices")
    try:
        return _records(link, settings, me)
    finally:
        link.close()


def _records(link: Link, settings: Settings, me: str | None) -> list[DeviceRecord]:
    devices = Devices(me or "")
    topic_filter = devices_filter(settings.namespace, settings.user)
    for topic, payload in retained_payloads(link, topic_filter, settle=SETTLE).items():
        parsed = parse_topic(settings.namespace, topic)
        if parsed is None or parsed.device is None:
            continue
        try:
            devices.update(parsed.device, decode_device(parsed.device, payload))
        except EnvelopeError:
            continue  # not a record mqchat wrote: nothing to list
    return devices.all()


def forget_device(settings: Settings, device: str, *, me: str | None) -> Forgotten:
    """Forget ``device`` (already validated) of the user: refused
    (:class:`ForgetRefused`) for ``me`` and for a device whose record says online.
    Its session is discarded first, then its record cleared, so a forget cut short
    can be done again: the record is what lists the device. Raises
    :class:`LinkError`."""
    why = why_not_forget(device, None, me=me)  # this device's own: no need to ask
    if why is not None:
        raise ForgetRefused(why)
    choice = ProtocolChoice.of(settings)
    link = open_link(settings, choice, role="devices")
    try:
        record = next((r for r in _records(link, settings, me) if r.device == device), None)
        why = why_not_forget(device, record, me=me)
        if why is not None:
            raise ForgetRefused(why)
        discard_session(settings, session_client_id(settings.user, device), choice)
        # Its keys first (protocol v3): nothing more is sealed for it. An ACL from
        # before keys refuses this, and there were none to clear.
        link.publish_and_wait(keys_topic(settings.namespace, settings.user, device), b"", 1, True)
        topic = device_topic(settings.namespace, settings.user, device)
        answer = link.publish_and_wait(topic, b"", 1, True)
        if answer.is_failure:
            raise LinkError(f"{settings.broker.label} refused to clear {topic!r}: {answer}")
    finally:
        link.close()
    return Forgotten(device, record)
