"""The user's devices for the TUI (protocol v2, docs/protocol.md#devices): the list
their records make, and forgetting one that is gone for good. A mixin of
:class:`~mqchat.chat.service.ChatService`, which holds the state it reads."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from mqchat.chat.backend import DeviceRefused
from mqchat.chat.own_devices import OwnDevices
from mqchat.config.settings import Settings
from mqchat.core.devices import DeviceRecord, session_client_id, why_not_forget
from mqchat.core.topics import device_topic, keys_topic, validate_device_id
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.mqtt.protocol import ProtocolChoice

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["DeviceList"]


class DeviceList:
    """``this_device``, ``devices()`` and ``forget_device()`` of the backend contract."""

    settings: Settings
    user: str
    _devices: OwnDevices
    _client: Session | None
    _choice: ProtocolChoice

    @property
    def this_device(self) -> str:
        return self._devices.device

    def devices(self) -> list[DeviceRecord]:
        return self._devices.devices.all()

    async def forget_device(self, device: str) -> None:
        """Its session first, then its record (see :func:`mqchat.tools.devices.
        forget_device`); our own copy of the record goes when the broker echoes the
        cleared one back on ``devices/+``, as on every other device of the user."""
        try:
            validate_device_id(device)
        except ValueError as exc:
            raise DeviceRefused(str(exc)) from None
        why = why_not_forget(device, self._devices.devices.get(device), me=self.this_device)
        if why is not None:
            raise DeviceRefused(why)
        client = self._client
        if client is None:
            raise DeviceRefused("not connected to the broker: try again once connected")
        # The same MQTT version as the chat's connection; the fast link is blocking.
        choice = ProtocolChoice(self._choice.current)
        client_id = session_client_id(self.user, device)
        topic = device_topic(self.settings.namespace, self.user, device)
        try:
            from mqchat.mqtt.forget import discard_session  # the fast link, paho

            await asyncio.to_thread(discard_session, self.settings, client_id, choice)
            keys = keys_topic(self.settings.namespace, self.user, device)
            with contextlib.suppress(PublishRefused):  # an ACL from before keys: none
                await client.publish(keys, b"", retain=True, json=False)
            await client.publish(topic, b"", retain=True, json=False)
        except PublishRefused as exc:
            raise DeviceRefused(f"the broker refused to clear its record: {exc}") from None
        except MqttError as exc:
            raise DeviceRefused(f"not forgotten: {exc}") from None
