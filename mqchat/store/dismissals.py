"""Ignored friend requests and blocked users, kept so a request the broker hands
over again (it is retained) or a stranger who insists is not shown again. Plain SQL
on the store's own connections (see :mod:`mqchat.store.plain`): every incoming
message from a stranger asks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mqchat.store.writer import Work, Writer, in_chunks

__all__ = ["Dismissal", "Dismissals"]


@dataclass(frozen=True, slots=True)
class Dismissal:
    until_ms: int
    """Requests dated up to here were ignored."""
    blocked: bool
    """Nothing of theirs is taken at all."""


class Dismissals:
    def __init__(self, writer: Writer, now_ms: Callable[[], int]):
        self._writer = writer
        self._now_ms = now_ms

    async def dismiss(self, users: Iterable[str], *, block: bool) -> None:
        """Ignore the requests of ``users`` made up to now; ``block``: and everything
        of theirs from now on (a block is kept by a later ignore)."""
        now = self._now_ms()
        rows = [(u, now, block) for u in dict.fromkeys(users)]
        if not rows:
            return
        blocked = "excluded.blocked" if block else "dismissed.blocked"
        sql = (
            "INSERT INTO dismissed (user, until_ms, blocked) VALUES (?, ?, ?) "
            "ON CONFLICT (user) DO UPDATE "
            f"SET until_ms = excluded.until_ms, blocked = {blocked}"
        )
        await self._writer.run(Work(lambda conn: conn.executemany(sql, rows), single=False))

    async def lift(self, user: str) -> None:
        """We added ``user`` ourselves: nothing of theirs is ignored any more."""
        sql = "DELETE FROM dismissed WHERE user = ?"
        await self._writer.run(Work(lambda conn: conn.execute(sql, (user,)), single=True))

    async def get(self, user: str) -> Dismissal | None:
        sql = "SELECT until_ms, blocked FROM dismissed WHERE user = ?"
        row = await self._writer.run(
            Work(lambda conn: conn.execute(sql, (user,)).fetchone(), single=True)
        )
        return None if row is None else Dismissal(row[0], bool(row[1]))

    async def blocked(self, users: Iterable[str]) -> set[str]:
        def work(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for chunk, marks in in_chunks(list(users)):
                sql = f"SELECT user FROM dismissed WHERE user IN ({marks}) AND blocked"
                found.update(user for (user,) in conn.execute(sql, chunk))
            return found

        return await self._writer.run(Work(work, single=True))
