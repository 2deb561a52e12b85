"""Rooms for the chat service (protocol v2, docs/protocol.md#rooms; the rules are
:mod:`mqchat.core.rooms`): creating and changing rooms, sending into them (one copy
per member, published by the outbox with :meth:`Rooms.fan_out`), and what arrives:
a room's new state from an admin, a member leaving, a member's message.

A room's changes are published at once when connected, else when the connection
comes back (they are kept in memory until then)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mqchat.chat.backend import SendError
from mqchat.core.envelope import Delete, Edit, ReceiptStatus, encode_envelope, parse_envelope
from mqchat.core.envelope_base import fresh
from mqchat.core.events import ChatReceived, Event, MessageStateChanged, RoomChanged
from mqchat.core.ids import new_message_id
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.core.names import validate_user_name
from mqchat.core.room_envelopes import RoomLeave, RoomState, RoomText
from mqchat.core.rooms import (
    Room,
    RoomError,
    accept_state,
    after_leave,
    check_members,
    check_room_name,
    may_post,
)
from mqchat.core.timing import MAX_SKEW, effective_time
from mqchat.core.topics import inbox_topic
from mqchat.core.wire import to_millis
from mqchat.mqtt.errors import MqttError, PublishRefused
from mqchat.store import ChatStore

if TYPE_CHECKING:
    from mqchat.mqtt.session import Session

__all__ = ["Rooms"]

log = logging.getLogger("mqchat.chat")


class Rooms:
    def __init__(
        self,
        *,
        user: str,
        namespace: str,
        store: Callable[[], Awaitable[ChatStore]],
        emit: Callable[[Event], None],
        receipt: Callable[[str, list[str], ReceiptStatus], None],
        clock: Callable[[], datetime],
        max_age: timedelta = MAX_SKEW,
        copies: Callable[[], bool] = lambda: True,
    ) -> None:
        self._user = user
        self._copies = copies
        """Whether the user has other devices, which get what we send on our inbox."""
        self._max_age = max_age
        self._ns = namespace
        self._store = store
        self._emit = emit
        self._receipt = receipt
        self._clock = clock
        self._known: dict[str, Room] = {}
        self._loaded = False
        self._client: Session | None = None
        self._waiting: list[tuple[str, bytes]] = []  # (member, payload) to publish

    async def load(self) -> None:
        if not self._loaded:
            self._known = {r.id: r for r in await (await self._store()).rooms.all()}
            self._loaded = True

    async def all(self) -> list[Room]:
        await self.load()
        return sorted(self._known.values(), key=lambda r: (r.name.lower(), r.id))

    async def find(self, name_or_id: str) -> Room:
        """A room we are in, by id or (unique) name. Raises :class:`RoomError`."""
        await self.load()
        if (room := self._known.get(name_or_id)) is not None:
            return room
        named = [r for r in self._known.values() if r.name == name_or_id]
        if len(named) > 1:
            raise RoomError(f"{len(named)} rooms are named {name_or_id!r}: use the room's id")
        if not named:
            raise RoomError(f"no room named {name_or_id!r}")
        return named[0]

    # -- connection ---------------------------------------------------------------

    async def connected(self, client: Session) -> None:
        self._client = client
        waiting, self._waiting = self._waiting, []
        for member, payload in waiting:
            await self._publish(member, payload)

    def disconnected(self) -> None:
        self._client = None

    @property
    def session(self) -> Session | None:
        """The connection changes go out on, while there is one."""
        return self._client

    async def store(self) -> ChatStore:
        return await self._store()

    async def _publish(self, member: str, payload: bytes) -> None:
        if member == self._user and not self._copies():
            return  # no other device of ours to tell
        if self._client is None:
            self._waiting.append((member, payload))
            return
        try:
            await self._client.publish(inbox_topic(self._ns, member, self._user), payload)
        except PublishRefused as exc:
            log.warning("the broker refused a room change to %s: %s", member, exc.reason)
        except MqttError:
            self._waiting.append((member, payload))

    # -- what we do ------------------------------------------------------------------

    async def create(self, name: str, members: Sequence[str]) -> Room:
        users = tuple(dict.fromkeys([self._user, *(validate_user_name(m) for m in members)]))
        room = Room(new_message_id(), check_room_name(name), check_members(users),
                    (self._user,), 1, True)  # fmt: skip
        await self._change(room, room.members)
        return room

    async def add(self, room_id: str, users: Sequence[str]) -> Room:
        room = await self._admin(room_id)
        new = tuple(validate_user_name(u) for u in users if u not in room.members)
        changed = Room(room.id, room.name, check_members(room.members + new), room.admins,
                       room.version + 1, True)  # fmt: skip
        await self._change(changed, changed.members)
        return changed

    async def remove(self, room_id: str, users: Sequence[str]) -> Room:
        room = await self._admin(room_id)
        gone = set(users) - {self._user}
        if not gone & set(room.members):
            raise RoomError(f"none of {', '.join(sorted(users))} is in {room.name!r}")
        members = tuple(m for m in room.members if m not in gone)
        admins = tuple(a for a in room.admins if a not in gone) or (self._user,)
        changed = Room(room.id, room.name, members, admins, room.version + 1, True)
        await self._change(changed, room.members)  # the removed learn they are out
        return changed

    async def rename(self, room_id: str, name: str) -> Room:
        room = await self._admin(room_id)
        changed = Room(room.id, check_room_name(name), room.members, room.admins,
                       room.version + 1, True)  # fmt: skip
        await self._change(changed, changed.members)
        return changed

    async def leave(self, room_id: str) -> Room:
        room = await self.find(room_id)
        left = after_leave(room, self._user, self._user)
        if left is None or not room.joined:
            raise RoomError(f"you are not in {room.name!r}")
        await self._save(left)
        for member in (*room.others(self._user), self._user):  # ourselves: other devices
            env = RoomLeave(**fresh(self._user, member, self._clock()), room=room.id)
            await self._publish(member, encode_envelope(env))
        return left

    async def message(self, room_id: str, body: str) -> ChatMessage:
        """A message of ours to the room, ready to store and queue (the outbox
        publishes it to every member, :meth:`fan_out`)."""
        room = await self.find(room_id)
        if not room.joined:
            raise SendError(f"not sent: you are no longer in {room.name!r}")
        if not body.strip():
            raise SendError("not sent: the message is empty")
        return ChatMessage(new_message_id(), room.key, Direction.OUT, self._user, room.key,
                           to_millis(self._clock()), body, DeliveryState.PENDING)  # fmt: skip

    def fan_out(self, msg: ChatMessage) -> list[tuple[str, bytes]]:
        """(member, envelope) for each member of ``msg``'s room but us, and one for
        us (a copy for our other devices: the outbox sends it only if we have any)."""
        room = self._known.get(msg.peer[1:])
        if room is None or not room.joined:
            return []
        return [
            (member, encode_envelope(RoomText(id=msg.id, sender=self._user, recipient=member,
                                              ts=msg.ts, room=room.id, body=msg.body)))
            for member in (*room.others(self._user), self._user)
        ]  # fmt: skip

    def fan_out_change(self, key: str, payload: bytes) -> list[tuple[str, bytes]]:
        """An edit or delete of our room message (``payload``, addressed to us) as
        (member, envelope) for each member but us, and one for us (a copy for our
        other devices)."""
        room = self._known.get(key[1:])
        env = parse_envelope(payload)
        if room is None or not isinstance(env, Edit | Delete):
            return []
        return [
            (member, encode_envelope(replace(env, recipient=member)))
            for member in (*room.others(self._user), self._user)
        ]

    async def _admin(self, room_id: str) -> Room:
        room = await self.find(room_id)
        if not room.joined or self._user not in room.admins:
            raise RoomError(f"only an admin of {room.name!r} may change it")
        return room

    async def _change(self, room: Room, tell: Sequence[str]) -> None:
        await self._save(room)
        # Every member hears of it; so do our other devices (the copy to ourselves).
        for member in dict.fromkeys([*tell, self._user]):
            env = RoomState(
                **fresh(self._user, member, self._clock()),
                room=room.id,
                name=room.name,
                members=room.members,
                admins=room.admins,
                version=room.version,
            )
            await self._publish(member, encode_envelope(env))

    async def _save(self, room: Room) -> None:
        await (await self._store()).rooms.save(room)
        self._known[room.id] = room
        self._emit(RoomChanged(room))

    # -- what arrives ----------------------------------------------------------------

    async def receive(self, env: RoomText | RoomState | RoomLeave) -> str | None:
        """Take what a member sent; returns why it is refused (to count), if it is."""
        await self.load()
        known = self._known.get(env.room)
        match env:
            case RoomState():
                room = accept_state(known, env, self._user)
                if room is None:
                    if known is not None and env.version <= known.version:
                        return None  # an old state, come late: nothing to refuse
                    return f"{env.sender!r} may not change the room {env.room!r}"
                await self._save(room)
            case RoomLeave():
                left = None if known is None else after_leave(known, env.sender, self._user)
                if left is not None:
                    await self._save(left)
            case RoomText():
                if env.sender == self._user:
                    await self._store_message(env, Direction.OUT, DeliveryState.SENT)
                elif not may_post(known, env.sender):
                    return f"{env.sender!r} is not a member of the room {env.room!r}"
                else:
                    await self._store_message(env, Direction.IN, DeliveryState.RECEIVED)
                    self._receipt(env.sender, [env.id], ReceiptStatus.DELIVERED)
        return None

    async def receipt(self, member: str, ids: Sequence[str], state: DeliveryState) -> None:
        """``member`` got as far as ``state`` with some of our room messages: the
        message is ``delivered`` once one member has it, ``read`` once all have read
        it (:meth:`read_by` says how many). Costs nothing without rooms: every
        receipt comes this way."""
        if not self._known:
            return
        store = await self._store()
        for mid in await store.rooms.receipts(ids, member, state):
            msg = await store.get_message(mid)
            room = None if msg is None else self._known.get(msg.peer[1:])
            if msg is None or room is None or member not in room.members:
                continue
            _reached, read = (await store.rooms.counts([mid])).get(mid, (0, 0))
            whole = DeliveryState.READ if read >= len(room.others(self._user)) else None
            moved = await store.advance_outgoing([mid], whole or DeliveryState.DELIVERED)
            # Said even when the message's own state stays: "read by" changed.
            now = moved[0] if moved else msg
            self._emit(MessageStateChanged(now.id, now.peer, now.state))

    async def read_by(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """For our room messages ``ids``: (members who read it, members but us)."""
        store = await self._store()
        counts = await store.rooms.counts(ids)
        result: dict[str, tuple[int, int]] = {}
        for mid in ids:
            msg = await store.get_message(mid)
            room = None if msg is None else self._known.get(msg.peer[1:])
            if room is not None:
                result[mid] = (counts.get(mid, (0, 0))[1], len(room.others(self._user)))
        return result

    async def _store_message(
        self, env: RoomText, direction: Direction, state: DeliveryState
    ) -> None:
        key = "#" + env.room
        # A member's clock is believed as a friend's is (core/timing.py): a message
        # dated 9999 is placed at its arrival, not pinned at the end.
        ts, claimed = effective_time(env.ts, self._clock(), max_age=self._max_age)
        msg = ChatMessage(
            env.id, key, direction, env.sender, key, ts, env.body, state, claimed,
            sealed=env.encrypted,
        )  # fmt: skip
        if await (await self._store()).add_message(msg):
            self._emit(ChatReceived(msg))
