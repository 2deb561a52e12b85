"""This device among the user's others (protocol v2, docs/protocol.md#devices).

* Each device keeps a retained record on ``{ns}/u/{me}/devices/{device}``: online
  while connected, offline when it quits.
* The user's presence stays one topic, as protocol v1 peers read it. Every device
  registers its Will there (naming itself), says ``online`` on connecting, and on a
  clean quit says ``offline`` only if no other device is online. A device that sees
  the user go offline while it is connected (another device's Will, or a quit that
  raced with it) says ``online`` again at once, and marks the lost device's record
  offline. So the user is online while any device is, and offline within a broker
  round trip of the last one going, however it went.
* While the user has other devices, what this one sends to a peer (texts, "read"
  receipts, friend requests and accepts) is also published to the user's own inbox
  ``{ns}/u/{me}/inbox/{me}``, which every device holds at QoS 1 on its persistent
  session: the others store it too, even if they are away now."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from mqchat.config.settings import Settings
from mqchat.core.devices import DeviceRecord, Devices, decode_device, encode_device
from mqchat.core.model import Presence, PresenceState
from mqchat.core.presence import encode_presence
from mqchat.core.tasks import Background
from mqchat.core.topics import device_topic, presence_topic
from mqchat.core.wire import EnvelopeError
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.mqtt.incoming import Will

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["OwnDevices"]

log = logging.getLogger("mqchat.chat")


def _host_label() -> str | None:
    try:
        return socket.gethostname()[:64] or None
    except OSError:
        return None


class OwnDevices:
    """What one device does for the user's presence and its other devices."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._ns = settings.namespace
        self._user = settings.user
        self._clock = clock
        self._label = _host_label()
        self.devices = Devices("")
        """The user's devices as their records say (this one's id is set on start)."""
        self._client: Session | None = None
        """The connection while up, and not quitting."""
        self._background = Background(log, "saying online again").run

    @property
    def device(self) -> str:
        return self.devices.me

    def start(self, device: str) -> None:
        self.devices.me = device

    @property
    def copies_wanted(self) -> bool:
        """Whether what we send must be copied to the user's other devices."""
        return bool(self.devices.others())

    def will(self, name: str | None) -> Will:
        payload = encode_presence(
            PresenceState.OFFLINE, name=name, lost=True, device=self.device or None
        )
        return Will(presence_topic(self._ns, self._user), payload)

    async def connected(self, client: Session) -> None:
        self._client = client
        await self._publish_record(client, online=True)

    async def leaving(self, client: Session) -> bool:
        """A clean quit: our record says offline. Returns whether the user's presence
        must say offline too (no other device is online)."""
        self._client = None  # our own "offline" on its way must not be answered
        await self._publish_record(client, online=False)
        return not self.devices.others_online()

    def disconnected(self) -> None:
        self._client = None

    def record_arrived(self, device: str, payload: bytes) -> bool:
        """A device record (ours or another's) came; ``False`` if it is malformed."""
        try:
            record = decode_device(device, payload)
        except EnvelopeError:
            return False
        newcomer = device != self.device and self.devices.get(device) is None
        self.devices.update(device, record)
        if newcomer and record is not None and record.online and self._client is not None:
            # It may not get our retained record (RabbitMQ hands retained messages only
            # to subscriptions without wildcards): say it again, live.
            self._background(self._publish_record(self._client, online=True))
        return True

    def presence_seen(self, presence: Presence, name: str | None) -> None:
        """The user's own presence came (ours, another device's, or a Will): if it
        says offline while this device is connected, say ``online`` again
        (:meth:`reassert`)."""
        if self._client is not None and not presence.online:
            self._background(self.reassert(self._client, presence, name))

    async def say(self, client: Session, state: PresenceState, name: str | None) -> None:
        """Publish the user's presence (retained)."""
        payload = encode_presence(state, name=name, ts=self._clock())
        try:
            await client.publish(presence_topic(self._ns, self._user), payload, retain=True)
        except PublishRefused as exc:  # an ACL: the chat works without our presence
            log.warning("%s refused our presence: %s", self._settings.broker.label, exc.reason)

    async def reassert(self, client: Session, presence: Presence, name: str | None) -> None:
        """Say ``online`` again after the user's presence said offline while this
        device is connected; mark the device whose Will that was as lost."""
        lost = presence.device if presence.lost else None
        try:
            payload = encode_presence(PresenceState.ONLINE, name=name, ts=self._clock())
            await client.publish(presence_topic(self._ns, self._user), payload, retain=True)
            if lost and lost != self.device and (known := self.devices.get(lost)) is not None:
                record = DeviceRecord(lost, False, self._clock(), known.label, lost=True)
                await client.publish(
                    device_topic(self._ns, self._user, lost), encode_device(record), retain=True
                )
        except (MqttError, PublishRefused) as exc:
            log.warning("could not say online again: %s", exc)

    async def _publish_record(self, client: Session, *, online: bool) -> None:
        if not self.device:
            return
        record = DeviceRecord(self.device, online, self._clock(), self._label)
        self.devices.update(self.device, record)
        try:
            await client.publish(
                device_topic(self._ns, self._user, self.device), encode_device(record), retain=True
            )
        except PublishRefused as exc:  # an older ACL: one device per user still works
            log.warning("%s refused our device record: %s", self._settings.broker.label, exc)
