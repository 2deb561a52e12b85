"""One user, several devices (protocol v2, docs/protocol.md#devices): each data dir
is a device with its own id, MQTT session and retained record on
``{ns}/u/{user}/devices/{device}``, which only that user reads and writes.

The records say which devices exist (so a device knows whether to copy what it
sends to the others) and which are online (so a device that quits knows whether it
is the last one, and says ``offline`` for the user only then)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mqchat.core.model import PresenceState, utc_now
from mqchat.core.wire import (
    EnvelopeError,
    display_name,
    dump_object,
    format_ts,
    load_object,
    parse_ts,
)

__all__ = [
    "DeviceRecord",
    "Devices",
    "decode_device",
    "encode_device",
    "session_client_id",
    "why_not_forget",
]

MAX_DEVICE_RECORD = 4096


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    device: str
    online: bool
    since: datetime | None = None
    """When it came online or went away (its own clock)."""
    label: str | None = None
    """What the user calls it: the host name, unless they chose another."""
    lost: bool = False
    """It went away without saying so (another device saw its Will)."""


def encode_device(record: DeviceRecord) -> bytes:
    obj: dict[str, Any] = {
        "v": 2,
        "device": record.device,
        "state": str(PresenceState.ONLINE if record.online else PresenceState.OFFLINE),
        "ts": format_ts(record.since or utc_now()),
    }
    if record.label:
        obj["label"] = record.label
    if record.lost:
        obj["lost"] = True
    return dump_object(obj)


def decode_device(device: str, data: bytes) -> DeviceRecord | None:
    """The record on ``device``'s topic; ``None`` when it was cleared (the device was
    forgotten). Raises :class:`~mqchat.core.wire.EnvelopeError`."""
    if data == b"":
        return None
    obj = load_object(data, MAX_DEVICE_RECORD)
    state = obj.get("state")
    if state not in (PresenceState.ONLINE.value, PresenceState.OFFLINE.value):
        raise EnvelopeError("'state' of a device is not online or offline")
    since = parse_ts(obj["ts"]) if "ts" in obj else None
    return DeviceRecord(
        device=device,
        online=state == PresenceState.ONLINE.value,
        since=since,
        label=display_name(obj.get("label")),
        lost=obj.get("lost") is True,
    )


def session_client_id(user: str, device: str) -> str:
    """The MQTT client id of ``user``'s ``device``, and so of its persistent session."""
    return f"mqchat-{user}-{device}"


def why_not_forget(device: str, record: DeviceRecord | None, *, me: str | None) -> str | None:
    """Why ``device`` must not be forgotten, in one line, or ``None``. Forgetting
    clears its record and discards its session at the broker: never this device's
    own (``me``), which is using them, nor one whose record says it is online (its
    session is in use there; it would be taken over, and write its record again)."""
    if device == me:
        return f"{device} is this device; forget it from another one"
    if record is not None and record.online:
        return f"{device} is online now: quit mqchat there first"
    return None


class Devices:
    """What this device knows of the user's devices, from their retained records."""

    def __init__(self, me: str) -> None:
        self.me = me
        """This device's id."""
        self._records: dict[str, DeviceRecord] = {}

    def update(self, device: str, record: DeviceRecord | None) -> None:
        if record is None:
            self._records.pop(device, None)
        else:
            self._records[device] = record

    def others(self) -> list[DeviceRecord]:
        """The user's other devices, online first, then the most recently seen."""
        rest = [r for d, r in self._records.items() if d != self.me]
        rest.sort(key=lambda r: (not r.online, -(r.since.timestamp() if r.since else 0)))
        return rest

    def others_online(self) -> bool:
        return any(r.online for r in self.others())

    def get(self, device: str) -> DeviceRecord | None:
        return self._records.get(device)

    def all(self) -> list[DeviceRecord]:
        mine = self._records.get(self.me)
        return ([mine] if mine else []) + self.others()
