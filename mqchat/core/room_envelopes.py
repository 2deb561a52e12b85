"""The envelopes of rooms (protocol v2, docs/protocol.md#rooms): a message to a
room, a room's state as an admin made it, and a member leaving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from mqchat.core.envelope_base import MAX_ID_LENGTH, Header, is_id, text_body
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.wire import EnvelopeError

__all__ = [
    "MAX_ROOM_MEMBERS",
    "MAX_ROOM_NAME",
    "RoomLeave",
    "RoomState",
    "RoomText",
    "parse_room",
    "room_fields",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomText(Header):
    """A message to a room (protocol v2): one copy to each member's inbox, all with
    the same ``id``; ``recipient`` is the member this copy is for."""

    type: ClassVar[str] = "room_text"
    room: str
    body: str
    v: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomState(Header):
    """A room as an admin made it (created, renamed, members added or removed), sent
    to every member old and new; ``version`` orders them."""

    type: ClassVar[str] = "room_state"
    room: str
    name: str
    members: tuple[str, ...]
    admins: tuple[str, ...]
    version: int
    v: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomLeave(Header):
    """The sender leaves the room (sent to every member)."""

    type: ClassVar[str] = "room_leave"
    room: str
    v: int = 2


MAX_ROOM_MEMBERS = 100
MAX_ROOM_NAME = 64


def _id_field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not is_id(value):
        raise EnvelopeError(f"'{key}' is missing or not a string of 1-{MAX_ID_LENGTH} chars")
    assert isinstance(value, str)
    return value


def _users(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list) or not 0 < len(value) <= MAX_ROOM_MEMBERS:
        raise EnvelopeError(f"'{key}' of a room is not a list of 1-{MAX_ROOM_MEMBERS} users")
    try:
        return tuple(dict.fromkeys(validate_user_name(u) for u in value))
    except (InvalidUserName, TypeError):
        raise EnvelopeError(f"'{key}' of a room holds something that is not a user name") from None


def _room_state_fields(obj: dict[str, Any]) -> dict[str, Any]:
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EnvelopeError("'name' of a room is missing or blank")
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise EnvelopeError("'version' of a room is not a positive integer")
    members, admins = _users(obj, "members"), _users(obj, "admins")
    if not set(admins) <= set(members):
        raise EnvelopeError("an admin of a room is not a member")
    return {
        "room": _id_field(obj, "room"),
        "name": name.strip()[:MAX_ROOM_NAME],
        "members": members,
        "admins": admins,
        "version": version,
    }


def parse_room(
    type_: str, header: dict[str, Any], obj: dict[str, Any]
) -> RoomText | RoomState | RoomLeave:
    """The room envelope of ``type_`` (``room_text``, ``room_state``, ``room_leave``)."""
    room = _id_field(obj, "room")
    if type_ == "room_text":
        return RoomText(**header, room=room, body=text_body(obj))
    if type_ == "room_state":
        return RoomState(**header, **_room_state_fields(obj))
    return RoomLeave(**header, room=room)


def room_fields(env: RoomText | RoomState | RoomLeave) -> dict[str, Any]:
    """The fields of a room envelope beyond the common ones, for the wire."""
    match env:
        case RoomText():
            return {"room": env.room, "body": env.body}
        case RoomState():
            return {
                "room": env.room,
                "name": env.name,
                "members": list(env.members),
                "admins": list(env.admins),
                "version": env.version,
            }
    return {"room": env.room}
