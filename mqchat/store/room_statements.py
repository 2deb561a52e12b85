"""The store's statements for rooms (schema version 8), in plain SQL on its own
connections (see :mod:`mqchat.store.plain`): the rooms this device knows, and how
far each member got with our messages to a room."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from mqchat.core.model import DeliveryState
from mqchat.core.rooms import Room
from mqchat.store.writer import MAX_VARIABLES, Work, Writer, in_chunks

__all__ = ["RoomBook", "member_receipts", "read_counts", "room", "rooms", "save_room", "senders"]

_FIELDS = "id, name, members, admins, version, joined"


def _room(row: tuple[object, ...]) -> Room:
    rid, name, members, admins, version, joined = row
    return Room(
        id=str(rid),
        name=str(name),
        members=tuple(json.loads(str(members))),
        admins=tuple(json.loads(str(admins))),
        version=int(str(version)),
        joined=bool(joined),
    )


def room(room_id: str) -> Work[Room | None]:
    sql = f"SELECT {_FIELDS} FROM rooms WHERE id = ?"

    def work(conn: sqlite3.Connection) -> Room | None:
        row = conn.execute(sql, (room_id,)).fetchone()
        return None if row is None else _room(row)

    return Work(work, single=True)


def rooms() -> Work[list[Room]]:
    sql = f"SELECT {_FIELDS} FROM rooms ORDER BY name COLLATE NOCASE, id"
    return Work(lambda conn: [_room(row) for row in conn.execute(sql)], True)


def save_room(value: Room) -> Work[None]:
    sql = (
        f"INSERT INTO rooms ({_FIELDS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET name = excluded.name, members = excluded.members, admins = excluded.admins, "
        "version = excluded.version, joined = excluded.joined"
    )
    params = (
        value.id,
        value.name,
        json.dumps(list(value.members)),
        json.dumps(list(value.admins)),
        value.version,
        value.joined,
    )

    def work(conn: sqlite3.Connection) -> None:
        conn.execute(sql, params)

    return Work(work, single=True)


def member_receipts(ids: Sequence[str], member: str, state: DeliveryState) -> Work[list[str]]:
    """``member`` got as far as ``state`` with our room messages ``ids`` (only ever
    forward); returns the ids of those that are ours, to a room ``member`` is in,
    and moved. Anybody else's receipt for them counts for nothing."""
    sql = (
        "INSERT INTO room_receipts (message_id, member, state) "
        "SELECT id, ?, ? FROM messages WHERE id IN ({marks}) AND direction = 'out' "
        "AND conversation LIKE '#%' AND EXISTS (SELECT 1 FROM rooms, json_each(rooms.members) "
        "WHERE '#' || rooms.id = messages.conversation AND json_each.value = ?) "
        "ON CONFLICT (message_id, member) DO UPDATE SET state = excluded.state "
        "WHERE excluded.state = 'read' AND room_receipts.state != 'read' "
        "RETURNING message_id"
    )

    def work(conn: sqlite3.Connection) -> list[str]:
        moved: list[str] = []
        for chunk, marks in in_chunks(ids):
            params = [member, state.value, *chunk, member]
            moved += [mid for (mid,) in conn.execute(sql.format(marks=marks), params)]
        return moved

    return Work(work, single=len(ids) <= MAX_VARIABLES)


def read_counts(ids: Sequence[str]) -> Work[dict[str, tuple[int, int]]]:
    """For each of our room messages ``ids``: (members it reached, members who read
    it)."""
    sql = (
        "SELECT message_id, count(*), sum(state = 'read') FROM room_receipts "
        "WHERE message_id IN ({marks}) GROUP BY message_id"
    )

    def work(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
        counts: dict[str, tuple[int, int]] = {}
        for chunk, marks in in_chunks(ids):
            for mid, reached, read in conn.execute(sql.format(marks=marks), chunk):
                counts[mid] = (reached, int(read or 0))
        return counts

    return Work(work, single=True)


def senders(ids: Sequence[str]) -> Work[dict[str, list[str]]]:
    """The messages ``ids`` by their sender, to answer each with a receipt."""

    def work(conn: sqlite3.Connection) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk, marks in in_chunks(ids):
            sql = f"SELECT sender, id FROM messages WHERE id IN ({marks})"
            for sender, mid in conn.execute(sql, chunk):
                found.setdefault(sender, []).append(mid)
        return found

    return Work(work, single=True)


class RoomBook:
    """The store's rooms (``ChatStore.rooms``)."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def get(self, room_id: str) -> Room | None:
        return await self._writer.run(room(room_id))

    async def all(self) -> list[Room]:
        return await self._writer.run(rooms())

    async def save(self, value: Room) -> None:
        await self._writer.run(save_room(value))

    async def receipts(self, ids: Sequence[str], member: str, state: DeliveryState) -> list[str]:
        return await self._writer.run(member_receipts(ids, member, state))

    async def counts(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        return await self._writer.run(read_counts(ids))

    async def senders(self, ids: Sequence[str]) -> dict[str, list[str]]:
        return await self._writer.run(senders(ids))
