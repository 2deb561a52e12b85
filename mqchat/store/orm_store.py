"""The store's statements through SQLAlchemy's ORM: those no start-up, send or
receive waits for (contact management, a whole conversation, search).
:class:`~mqchat.store.chat_store.ChatStore` loads this module, and SQLAlchemy with
it, on first use and in a thread of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mqchat.core.model import ChatMessage, Contact, ContactStatus
from mqchat.store.convert import contact_from_row, message_from_row
from mqchat.store.database import create_engine
from mqchat.store.models import ContactRow, MessageRow
from mqchat.store.search import search_messages

__all__ = ["OrmStore"]


class OrmStore:
    """The ORM's part of a :class:`~mqchat.store.chat_store.ChatStore`: one async
    engine (a pool of aiosqlite connections) on the same file."""

    def __init__(self, engine: AsyncEngine, now_ms: Callable[[], int]) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._now_ms = now_ms

    @classmethod
    def on(cls, path: Path, *, busy_timeout: float, now_ms: Callable[[], int]) -> OrmStore:
        """One on the file ``path``, whose schema is current (no connection is made
        yet)."""
        return cls(create_engine(path, busy_timeout=busy_timeout), now_ms)

    async def close(self) -> None:
        await self._engine.dispose()

    async def conversation(self, peer: str) -> list[ChatMessage]:
        oldest_first = (MessageRow.ts_ms, MessageRow.id)
        stmt = select(MessageRow).where(MessageRow.conversation == peer).order_by(*oldest_first)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [message_from_row(row) for row in rows]

    async def search(
        self, text: str, *, peer: str | None, before: ChatMessage | None, limit: int
    ) -> list[ChatMessage]:
        return await search_messages(self._sessions, text, peer=peer, before=before, limit=limit)

    async def set_contact_status(self, user: str, status: ContactStatus) -> Contact | None:
        stmt = (
            update(ContactRow)
            .where(ContactRow.user == user)
            .values(status=status.value, request_sent_ms=None)
            .returning(ContactRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            row = (await session.execute(stmt)).scalars().first()
        return None if row is None else contact_from_row(row)

    async def requests_to_send(self) -> list[Contact]:
        stmt = (
            select(ContactRow)
            .where(
                ContactRow.status == ContactStatus.REQUESTED.value,
                ContactRow.request_sent_ms.is_(None),
            )
            .order_by(ContactRow.added_at, ContactRow.user)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [contact_from_row(row) for row in rows]

    async def mark_request_sent(self, user: str) -> None:
        stmt = (
            update(ContactRow)
            .where(
                ContactRow.user == user,
                ContactRow.status == ContactStatus.REQUESTED.value,
            )
            .values(request_sent_ms=self._now_ms())
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)

    async def remove_contact(self, user: str) -> bool:
        stmt = delete(ContactRow).where(ContactRow.user == user).returning(ContactRow.user)
        async with self._sessions.begin() as session:
            return (await session.execute(stmt)).first() is not None
