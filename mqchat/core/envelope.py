"""Chat envelopes, the JSON objects published on a user's inbox (protocol v1, and
v2's ``edit`` and ``delete``; see docs/protocol.md): one frozen dataclass per type,
one strict decoder, one encoder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self, TypeAlias

from mqchat.core.envelope_base import MAX_ID_LENGTH, Header, fresh, is_id, text_body, user_field
from mqchat.core.ids import new_message_id
from mqchat.core.model import utc_now
from mqchat.core.names import validate_user_name
from mqchat.core.room_envelopes import (
    MAX_ROOM_MEMBERS,
    MAX_ROOM_NAME,
    RoomLeave,
    RoomState,
    RoomText,
    parse_room,
    room_fields,
)
from mqchat.core.wire import (
    EnvelopeError,
    display_name,
    dump_object,
    format_ts,
    load_object,
    parse_ts,
    to_millis,
)

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "MAX_ID_LENGTH",
    "MAX_ROOM_MEMBERS",
    "MAX_ROOM_NAME",
    "Delete",
    "Edit",
    "Envelope",
    "EnvelopeError",
    "FriendAccept",
    "FriendRequest",
    "Receipt",
    "ReceiptStatus",
    "RoomLeave",
    "RoomState",
    "RoomText",
    "Sealed",
    "Text",
    "Typing",
    "Unknown",
    "encode_envelope",
    "parse_envelope",
    "sealed_limit",
]

MAX_ENVELOPE_BYTES = 64 * 1024
"""Inbound envelopes larger than this are refused unread (configurable per session)."""


def sealed_limit(max_size: int) -> int:
    """The largest sealed envelope whose inside may be ``max_size`` bytes: base64
    makes it a third larger, and each device it is sealed for adds its wrapped key."""
    return max_size * 4 // 3 + 16 * 1024


class ReceiptStatus(StrEnum):
    """How far a peer got with our messages."""

    DELIVERED = "delivered"
    READ = "read"


@dataclass(frozen=True, slots=True, kw_only=True)
class Text(Header):
    """A chat message."""

    type: ClassVar[str] = "text"
    body: str

    @classmethod
    def new(
        cls,
        sender: str,
        recipient: str,
        body: str,
        *,
        id: str | None = None,
        ts: datetime | None = None,
    ) -> Self:
        """A message to send: a new id unless given, ``ts`` (default now) at the
        wire's precision. Raises :class:`~mqchat.core.names.InvalidUserName`."""
        return cls(
            id=id or new_message_id(),
            sender=validate_user_name(sender),
            recipient=validate_user_name(recipient, what="recipient"),
            ts=to_millis(ts or utc_now()),
            body=body,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(Header):
    """Tells the recipient that some of its messages were delivered or read."""

    type: ClassVar[str] = "receipt"
    ids: tuple[str, ...]
    """The acknowledged message ids (mqchat never sends an empty list; one that
    comes is accepted and changes nothing, as protocol v1 has always allowed)."""
    status: ReceiptStatus

    @classmethod
    def new(
        cls,
        sender: str,
        recipient: str,
        ids: Iterable[str],
        status: ReceiptStatus,
        *,
        ts: datetime | None = None,
    ) -> Self:
        """Tell ``recipient`` that its messages ``ids`` reached ``status``. Raises
        :class:`ValueError` for no ids or an unknown status."""
        return cls(
            **fresh(sender, recipient, ts),
            ids=tuple(ids),
            status=ReceiptStatus(status),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Typing(Header):
    """The sender is typing to the recipient right now (QoS 0, never stored)."""

    type: ClassVar[str] = "typing"

    @classmethod
    def new(cls, sender: str, recipient: str, *, ts: datetime | None = None) -> Self:
        return cls(**fresh(sender, recipient, ts))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Introduction(Header):
    """A friendship step, with the display name the sender goes by."""

    name: str | None = None
    """The sender's display name, as they chose it (cut, not yet made safe to show)."""

    @classmethod
    def new(
        cls, sender: str, recipient: str, *, name: str | None = None, ts: datetime | None = None
    ) -> Self:
        return cls(
            **fresh(sender, recipient, ts),
            name=name,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FriendRequest(_Introduction):
    """The sender asks the recipient to be friends."""

    type: ClassVar[str] = "friend_request"


@dataclass(frozen=True, slots=True, kw_only=True)
class FriendAccept(_Introduction):
    """The sender accepts the recipient's friend request."""

    type: ClassVar[str] = "friend_accept"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Change(Header):
    """A change to one of the sender's own messages, sent after it on the same topic
    (protocol v2): the receiver applies it only if the target's sender is ours."""

    target: str
    """The id of the message it changes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit(_Change):
    """The sender replaces the body of their message ``target``."""

    type: ClassVar[str] = "edit"
    body: str

    @classmethod
    def new(
        cls, sender: str, recipient: str, target: str, body: str, *, ts: datetime | None = None
    ) -> Self:
        return cls(
            **fresh(sender, recipient, ts),
            target=target,
            body=body,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete(_Change):
    """The sender deletes their message ``target``: its body goes, everywhere."""

    type: ClassVar[str] = "delete"

    @classmethod
    def new(cls, sender: str, recipient: str, target: str, *, ts: datetime | None = None) -> Self:
        return cls(
            **fresh(sender, recipient, ts),
            target=target,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sealed(Header):
    """Another envelope, end-to-end encrypted for the devices of its recipient and of
    its sender (protocol v3, mqchat/crypto/seal.py): the header is the inner
    envelope's, which the receiver checks once it has opened it."""

    type: ClassVar[str] = "sealed"
    box: dict[str, Any]
    """The sealed object, ``sealed`` on the wire (checked when opened)."""
    v: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Unknown(Header):
    """An envelope of a type from a later version: its common fields are checked as
    any envelope's are, nothing else is read, and it is ignored rather than refused
    (forward compatible). It cannot be sent."""

    type: str


Envelope: TypeAlias = (
    Text
    | Receipt
    | Typing
    | FriendRequest
    | FriendAccept
    | Edit
    | Delete
    | RoomText
    | RoomState
    | RoomLeave
)
"""Every envelope this version knows: what it sends, and what it acts on, once
opened if it came :class:`Sealed`."""


def parse_envelope(
    data: bytes, *, max_size: int = MAX_ENVELOPE_BYTES, encrypted: bool = False
) -> Envelope | Sealed | Unknown:
    """Decode and validate an inbound payload. Raises :class:`EnvelopeError` with the
    reason; a well-formed envelope of a type this version does not know comes back as
    :class:`Unknown`. ``encrypted``: it is what a sealed envelope held."""
    obj = load_object(data, max_size)
    v = obj.get("v")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise EnvelopeError("'v' is missing or not a positive integer")
    id_ = obj.get("id")
    if not is_id(id_):
        raise EnvelopeError(f"'id' is missing or not a string of 1-{MAX_ID_LENGTH} chars")
    type_ = obj.get("type")
    if not isinstance(type_, str) or not type_:
        raise EnvelopeError("'type' is missing or not a string")
    header: dict[str, Any] = {
        "id": id_,
        "sender": user_field(obj, "from"),
        "recipient": user_field(obj, "to"),
        "ts": parse_ts(obj.get("ts")),
        "v": v,
        "encrypted": encrypted,
    }
    match type_:
        case "text":
            return Text(**header, body=text_body(obj))
        case "receipt":
            ids, status = _receipt_fields(obj)
            return Receipt(**header, ids=ids, status=status)
        case "typing":
            return Typing(**header)
        case "friend_request":
            return FriendRequest(**header, name=display_name(obj.get("name")))
        case "friend_accept":
            return FriendAccept(**header, name=display_name(obj.get("name")))
        case "room_text" | "room_state" | "room_leave":
            return parse_room(type_, header, obj)
        case "edit":
            return Edit(**header, target=_target(obj), body=_edit_body(obj))
        case "delete":
            return Delete(**header, target=_target(obj))
        case "sealed":
            sealed = obj.get("sealed")
            if not isinstance(sealed, dict):
                raise EnvelopeError("'sealed' of a sealed envelope is not an object")
            return Sealed(**header, box=sealed)
        case _:
            return Unknown(**header, type=type_)


def encode_envelope(env: Envelope | Sealed) -> bytes:
    """The wire bytes of ``env``: compact UTF-8 JSON, the common fields first."""
    obj: dict[str, Any] = {
        "v": env.v,
        "id": env.id,
        "type": env.type,
        "from": env.sender,
        "to": env.recipient,
        "ts": format_ts(env.ts),
    }
    match env:
        case Text(body=body):
            obj["body"] = body
        case Receipt(ids=ids, status=status):
            obj["ids"] = list(ids)
            obj["status"] = status.value
        case FriendRequest(name=name) | FriendAccept(name=name) if name is not None:
            obj["name"] = name
        case RoomText() | RoomState() | RoomLeave():
            obj |= room_fields(env)
        case Edit(target=target, body=body):
            obj["target"] = target
            obj["body"] = body
        case Delete(target=target):
            obj["target"] = target
        case Sealed(box=box):
            obj["sealed"] = box
    return dump_object(obj)


def _target(obj: dict[str, Any]) -> str:
    target = obj.get("target")
    if not is_id(target):
        raise EnvelopeError(f"'target' is missing or not a string of 1-{MAX_ID_LENGTH} chars")
    return target


def _edit_body(obj: dict[str, Any]) -> str:
    body = obj.get("body")
    if not isinstance(body, str):
        raise EnvelopeError("'body' of an edit is missing or not a string")
    return body


def _receipt_fields(obj: dict[str, Any]) -> tuple[tuple[str, ...], ReceiptStatus]:
    ids = obj.get("ids")
    if not isinstance(ids, list) or not all(is_id(i) for i in ids):
        raise EnvelopeError("'ids' of a receipt is not a list of ids")
    status = obj.get("status")
    if status not in (ReceiptStatus.DELIVERED.value, ReceiptStatus.READ.value):
        raise EnvelopeError("'status' of a receipt is not 'delivered' or 'read'")
    return tuple(ids), ReceiptStatus(status)
