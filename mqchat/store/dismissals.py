"""Ignored friend requests and blocked users, kept so a request the broker hands
over again (it is retained) or a stranger who insists is not shown again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mqchat.store.models import DismissedRow

__all__ = ["Dismissal", "Dismissals"]


@dataclass(frozen=True, slots=True)
class Dismissal:
    until_ms: int
    """Requests dated up to here were ignored."""
    blocked: bool
    """Nothing of theirs is taken at all."""


class Dismissals:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], now_ms: Callable[[], int]):
        self._sessions = sessions
        self._now_ms = now_ms

    async def dismiss(self, users: Iterable[str], *, block: bool) -> None:
        """Ignore the requests of ``users`` made up to now; ``block``: and everything
        of theirs from now on (a block is kept by a later ignore)."""
        rows = [{"user": u, "until_ms": self._now_ms(), "blocked": block} for u in users]
        if not rows:
            return
        stmt = insert(DismissedRow).values(rows)
        blocked = stmt.excluded.blocked if block else DismissedRow.blocked
        stmt = stmt.on_conflict_do_update(
            index_elements=[DismissedRow.user],
            set_={"until_ms": stmt.excluded.until_ms, "blocked": blocked},
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)

    async def lift(self, user: str) -> None:
        """We added ``user`` ourselves: nothing of theirs is ignored any more."""
        async with self._sessions.begin() as session:
            await session.execute(delete(DismissedRow).where(DismissedRow.user == user))

    async def get(self, user: str) -> Dismissal | None:
        async with self._sessions() as session:
            row = await session.get(DismissedRow, user)
        return None if row is None else Dismissal(row.until_ms, row.blocked)

    async def blocked(self, users: Iterable[str]) -> set[str]:
        stmt = select(DismissedRow.user).where(
            DismissedRow.user.in_(set(users)), DismissedRow.blocked.is_(True)
        )
        async with self._sessions() as session:
            return set((await session.scalars(stmt)).all())
