"""The wire format of protocol v1 (DESIGN.md §3): chat envelopes and presence
payloads, encoded as one UTF-8 JSON object each. Decoding never trusts its input."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mqchat.core.model import Presence, PresenceState, utc_now
from mqchat.core.names import InvalidUserName, validate_user_name

__all__ = [
    "KNOWN_TYPES",
    "MAX_ENVELOPE_BYTES",
    "MAX_NAME_LENGTH",
    "Envelope",
    "EnvelopeError",
    "decode_presence",
    "encode_presence",
    "format_ts",
    "new_message_id",
    "parse_ts",
]

MAX_ENVELOPE_BYTES = 64 * 1024
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 64
"""Display names longer than this (in presence or a friend request) are cut."""
KNOWN_TYPES = frozenset({"text", "receipt", "typing", "friend_request", "friend_accept"})
RECEIPT_STATUSES = frozenset({"delivered", "read"})


class EnvelopeError(ValueError):
    """Why an inbound payload was refused, in words fit for a log line."""


_RAND_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) of a UUIDv7
_last_id = (0, 0)  # (ms, random part) of the previous id made from this process's clock


def new_message_id(now_ms: int | None = None) -> str:
    """A UUIDv7: 48 bits of Unix milliseconds then random bits, so ids sort by time.
    Ids made from the clock are also strictly increasing within the process (the
    random part counts up inside one millisecond, and a clock that steps back is
    ignored), so messages typed in the same millisecond keep their order."""
    global _last_id
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big") >> (80 - _RAND_BITS)
    if now_ms is None:
        last_ms, last_rand = _last_id
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
            if rand >> _RAND_BITS:  # 2^74 ids in one millisecond: borrow the next one
                ms, rand = ms + 1, 0
        _last_id = (ms, rand)
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def format_ts(ts: datetime) -> str:
    """``2026-11-22T04:00:00.123Z``: UTC, millisecond precision."""
    ts = ts.astimezone(UTC)
    # The year by hand: strftime does not pad years before 1000 on every platform.
    return f"{ts.year:04d}-" + ts.strftime("%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _to_millis(ts: datetime) -> datetime:
    """The precision of the wire (and of the store), so a sent message equals itself
    once read back."""
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def parse_ts(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise EnvelopeError("'ts' is not a timestamp string")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EnvelopeError(f"'ts' is not an ISO 8601 timestamp: {value[:40]!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise EnvelopeError(f"'ts' is out of range: {value[:40]!r}") from None


def _load_object(data: bytes, max_size: int) -> dict[str, Any]:
    if len(data) > max_size:
        raise EnvelopeError(f"payload of {len(data)} bytes exceeds the {max_size}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError("payload is not valid UTF-8") from None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise EnvelopeError("payload is not valid JSON") from None
    if not isinstance(obj, dict):
        raise EnvelopeError("payload is not a JSON object")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(obj):
        raise EnvelopeError("payload has a lone surrogate escape: not valid Unicode")
    return obj


# json.loads turns an unpaired "\ud800" escape into a str that cannot be encoded
# again: storing it, sending it or writing it to the terminal would raise.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(obj: object) -> bool:
    pending = [obj]  # a loop, not recursion: the nesting may be deep
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _user_field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise EnvelopeError(f"'{key}' is missing or not a string")
    try:
        return validate_user_name(value)
    except InvalidUserName as exc:
        raise EnvelopeError(f"'{key}': {exc}") from None


@dataclass(frozen=True, slots=True)
class Envelope:
    """One chat envelope. ``type`` may be one this version does not know (check
    :attr:`known`); such envelopes are ignored, not rejected."""

    id: str
    type: str
    sender: str
    recipient: str
    ts: datetime
    body: str | None = None
    ids: tuple[str, ...] = field(default=())
    status: str | None = None
    name: str | None = None
    """The sender's display name, carried by friend requests and accepts."""
    v: int = 1

    @property
    def known(self) -> bool:
        return self.type in KNOWN_TYPES

    @classmethod
    def text(
        cls,
        sender: str,
        recipient: str,
        body: str,
        *,
        id: str | None = None,
        ts: datetime | None = None,
    ) -> Envelope:
        return cls(
            id=id or new_message_id(),
            type="text",
            sender=validate_user_name(sender),
            recipient=validate_user_name(recipient, what="recipient"),
            ts=_to_millis(ts or utc_now()),
            body=body,
        )

    @classmethod
    def receipt(
        cls,
        sender: str,
        recipient: str,
        ids: Iterable[str],
        status: str,
        *,
        ts: datetime | None = None,
    ) -> Envelope:
        """Tell ``recipient`` that its messages ``ids`` were delivered or read."""
        if status not in RECEIPT_STATUSES:
            raise ValueError(f"receipt status must be one of {sorted(RECEIPT_STATUSES)}")
        return cls(
            id=new_message_id(),
            type="receipt",
            sender=sender,
            recipient=recipient,
            ts=_to_millis(ts or utc_now()),
            ids=tuple(ids),
            status=status,
        )

    @classmethod
    def control(
        cls,
        type: str,
        sender: str,
        recipient: str,
        *,
        name: str | None = None,
        ts: datetime | None = None,
    ) -> Envelope:
        """A ``typing``, ``friend_request`` or ``friend_accept`` envelope."""
        if type not in ("typing", "friend_request", "friend_accept"):
            raise ValueError(f"not a control envelope type: {type!r}")
        return cls(
            id=new_message_id(),
            type=type,
            sender=sender,
            recipient=recipient,
            ts=_to_millis(ts or utc_now()),
            name=name if type != "typing" else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": self.v,
            "id": self.id,
            "type": self.type,
            "from": self.sender,
            "to": self.recipient,
            "ts": format_ts(self.ts),
        }
        if self.body is not None:
            out["body"] = self.body
        if self.type == "receipt":
            out["ids"] = list(self.ids)
            out["status"] = self.status
        if self.name is not None:
            out["name"] = self.name
        return out

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def parse(cls, data: bytes, *, max_size: int = MAX_ENVELOPE_BYTES) -> Envelope:
        """Decode and validate; raise :class:`EnvelopeError` with the reason."""
        obj = _load_object(data, max_size)
        v = obj.get("v")
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise EnvelopeError("'v' is missing or not a positive integer")
        id_ = obj.get("id")
        if not isinstance(id_, str) or not 0 < len(id_) <= MAX_ID_LENGTH:
            raise EnvelopeError(f"'id' is missing or not a string of 1-{MAX_ID_LENGTH} chars")
        type_ = obj.get("type")
        if not isinstance(type_, str) or not type_:
            raise EnvelopeError("'type' is missing or not a string")
        env = cls(
            id=id_,
            type=type_,
            sender=_user_field(obj, "from"),
            recipient=_user_field(obj, "to"),
            ts=parse_ts(obj.get("ts")),
            v=v,
        )
        if type_ == "text":
            body = obj.get("body")
            if not isinstance(body, str):
                raise EnvelopeError("'body' of a text message is missing or not a string")
            return replace(env, body=body)
        if type_ == "receipt":
            ids = obj.get("ids")
            if not isinstance(ids, list) or not all(
                isinstance(i, str) and 0 < len(i) <= MAX_ID_LENGTH for i in ids
            ):
                raise EnvelopeError("'ids' of a receipt is not a list of ids")
            status = obj.get("status")
            if status not in RECEIPT_STATUSES:
                raise EnvelopeError("'status' of a receipt is not 'delivered' or 'read'")
            return replace(env, ids=tuple(ids), status=status)
        if type_ in ("friend_request", "friend_accept"):
            return replace(env, name=_display_name(obj.get("name")))
        # typing, and types of later versions: nothing more is read from them
        return env


def _display_name(value: object) -> str | None:
    """A peer-chosen display name: kept only if it is a non-blank string, and cut to
    :data:`MAX_NAME_LENGTH` (it is made safe for the terminal when shown)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_NAME_LENGTH]


def encode_presence(
    state: PresenceState, *, name: str | None, ts: datetime | None = None, lost: bool = False
) -> bytes:
    """The retained presence payload; ``lost`` marks the Will the broker publishes."""
    obj: dict[str, Any] = {"v": 1, "state": str(state), "ts": format_ts(ts or utc_now())}
    if name:
        obj["name"] = name
    if lost:
        obj["lost"] = True
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def decode_presence(user: str, data: bytes, *, max_size: int = 4096) -> Presence:
    """Decode a retained presence payload; an empty payload (a cleared retained
    message) means the user is gone, which reads as offline."""
    if data == b"":
        return Presence(user=user, state=PresenceState.OFFLINE)
    obj = _load_object(data, max_size)
    raw_state = obj.get("state")
    try:
        state = PresenceState(raw_state if isinstance(raw_state, str) else "")
    except ValueError:
        raise EnvelopeError("'state' is not online, away or offline") from None
    lost = obj.get("lost") is True
    since = parse_ts(obj["ts"]) if "ts" in obj else None
    return Presence(
        user=user, state=state, since=since, name=_display_name(obj.get("name")), lost=lost
    )
