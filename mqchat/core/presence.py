"""The retained presence payload each user publishes on its presence topic, and the
Will the broker publishes in its place when the connection is lost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mqchat.core.model import Presence, PresenceState, utc_now
from mqchat.core.wire import (
    EnvelopeError,
    display_name,
    dump_object,
    format_ts,
    load_object,
    parse_ts,
)

__all__ = ["decode_presence", "encode_presence"]


def encode_presence(
    state: PresenceState,
    *,
    name: str | None,
    ts: datetime | None = None,
    lost: bool = False,
    device: str | None = None,
) -> bytes:
    """The retained presence payload; ``lost`` marks the Will the broker publishes,
    ``device`` the device whose Will it is (protocol v2)."""
    obj: dict[str, Any] = {"v": 1, "state": str(state), "ts": format_ts(ts or utc_now())}
    if name:
        obj["name"] = name
    if lost:
        obj["lost"] = True
    if device:
        obj["device"] = device
    return dump_object(obj)


def decode_presence(user: str, data: bytes, *, max_size: int = 4096) -> Presence:
    """Decode a retained presence payload; an empty payload (a cleared retained
    message) means the user is gone, which reads as offline. Raises
    :class:`~mqchat.core.wire.EnvelopeError`."""
    if data == b"":
        return Presence(user=user, state=PresenceState.OFFLINE)
    obj = load_object(data, max_size)
    raw_state = obj.get("state")
    try:
        state = PresenceState(raw_state if isinstance(raw_state, str) else "")
    except ValueError:
        raise EnvelopeError("'state' is not online, away or offline") from None
    lost = obj.get("lost") is True
    since = parse_ts(obj["ts"]) if "ts" in obj else None
    device = obj.get("device")
    return Presence(
        user=user,
        state=state,
        since=since,
        name=display_name(obj.get("name")),
        lost=lost,
        device=device if isinstance(device, str) and 0 < len(device) <= 32 else None,
    )
