"""Rooms (protocol v2, docs/protocol.md#rooms): group conversations of up to 100
members, carried by client-side fan-out: a message to a room is one copy on each
member's inbox, so the ACL and the sender check of 1:1 chat still hold (nobody can
post as another), and nobody outside the room gets a copy.

What a room is, as this device knows it, and the rules every member applies to
what arrives: who may change a room, who may post into it. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from mqchat.core.model import ChatMessage, Contact, ContactSummary
from mqchat.core.room_envelopes import MAX_ROOM_MEMBERS, MAX_ROOM_NAME, RoomState

__all__ = [
    "ROOM_PREFIX",
    "Room",
    "RoomError",
    "accept_state",
    "after_leave",
    "check_members",
    "check_room_name",
    "is_room_key",
    "may_post",
    "room_key",
    "room_summary",
    "with_rooms",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROOM_PREFIX = "#"
"""Room conversations are stored under ``#<room id>``: no user name has a ``#``."""


class RoomError(ValueError):
    """A room operation that cannot be done; the text says why."""


def room_key(room_id: str) -> str:
    return ROOM_PREFIX + room_id


def is_room_key(conversation: str) -> bool:
    return conversation.startswith(ROOM_PREFIX)


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    members: tuple[str, ...]
    admins: tuple[str, ...]
    version: int
    joined: bool
    """Whether we are a member (we left, or were removed, when not)."""

    @property
    def key(self) -> str:
        return room_key(self.id)

    def others(self, me: str) -> tuple[str, ...]:
        return tuple(m for m in self.members if m != me)


def check_room_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise RoomError("a room needs a name")
    if len(name) > MAX_ROOM_NAME:
        raise RoomError(f"a room name has at most {MAX_ROOM_NAME} characters")
    return name


def check_members(members: tuple[str, ...]) -> tuple[str, ...]:
    if len(members) > MAX_ROOM_MEMBERS:
        raise RoomError(f"a room has at most {MAX_ROOM_MEMBERS} members")
    return members


def accept_state(known: Room | None, env: RoomState, me: str) -> Room | None:
    """The room as ``env`` makes it, or ``None`` when it must not be taken: from
    someone who is not an admin of the room as we know it (or, for a room we do
    not know, not an admin of the state it brings), one that does not include us
    for a room we never were in, or an old version."""
    if known is None:
        if env.sender not in env.admins or me not in env.members:
            return None
    elif env.sender not in known.admins or env.version <= known.version:
        return None
    return Room(env.room, env.name, env.members, env.admins, env.version, me in env.members)


def after_leave(known: Room, leaver: str, me: str) -> Room | None:
    """The room once ``leaver`` left it; ``None`` if they were not a member."""
    if leaver not in known.members:
        return None
    members = tuple(m for m in known.members if m != leaver)
    admins = tuple(a for a in known.admins if a != leaver)
    if not admins and members:
        admins = (members[0],)  # a room is never left without an admin
    return replace(known, members=members, admins=admins, joined=known.joined and leaver != me)


def may_post(room: Room | None, sender: str) -> bool:
    """Whether a message from ``sender`` into ``room`` is taken."""
    return room is not None and room.joined and sender in room.members


def with_rooms(people: list[ContactSummary], rooms: list[ContactSummary]) -> list[ContactSummary]:
    """The friends list: requests first (they wait for an answer), then people and
    rooms by their latest message, newest first, then those without messages by
    name."""

    def order(summary: ContactSummary) -> tuple[int, int, float, str]:
        last = summary.last_message
        return (
            0 if summary.contact.is_request else 1,
            0 if last is not None else 1,
            -last.ts.timestamp() if last is not None else 0.0,
            (summary.contact.display_name or summary.contact.user).lower(),
        )

    return sorted(people + rooms, key=order)


def room_summary(room: Room, unread: int, last: ChatMessage | None) -> ContactSummary:
    """How ``room`` sits in the friends list."""
    contact = Contact(user=room.key, display_name=room.name, added_at=_EPOCH)
    return ContactSummary(contact, unread, last, members=room.members)
