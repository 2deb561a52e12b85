"""The persistent side of the chat: messages and contacts in one SQLite file, read
and written as the frozen domain dataclasses."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mqchat.core.model import (
    ChatMessage,
    Contact,
    ContactStatus,
    ContactSummary,
    DeliveryState,
    Direction,
    utc_now,
)
from mqchat.core.names import validate_user_name
from mqchat.store.convert import contact_from_row, message_from_row, to_ms
from mqchat.store.database import BUSY_TIMEOUT_S, open_engine
from mqchat.store.dismissals import Dismissals
from mqchat.store.models import ContactRow, MessageRow, MetaRow
from mqchat.store.orders import NEWEST_FIRST, OLDEST_FIRST, UNREAD
from mqchat.store.search import search_messages
from mqchat.store.summaries import contact_summaries
from mqchat.store.writer import Writer

__all__ = ["ChatStore"]

_S = DeliveryState

# The states a message may move *from* to reach a given state. Outgoing messages only
# go forward (pending < sent < delivered < read), so a late or duplicated receipt
# never moves one back. A receipt proves the peer has the message, so it also
# overrides a `failed` we concluded on our side.
_OUT_FROM: dict[DeliveryState, tuple[DeliveryState, ...]] = {
    _S.SENT: (_S.PENDING,),
    _S.DELIVERED: (_S.PENDING, _S.SENT, _S.FAILED),
    _S.READ: (_S.PENDING, _S.SENT, _S.DELIVERED, _S.FAILED),
    _S.FAILED: (_S.PENDING,),
}
_IN_FROM: dict[DeliveryState, tuple[DeliveryState, ...]] = {
    _S.READ: (_S.RECEIVED,),
}

_DEVICE_ID = "device_id"
"""The ``meta`` key of :meth:`ChatStore.device_id`."""


def _values(states: tuple[DeliveryState, ...]) -> list[str]:
    return [s.value for s in states]


class ChatStore:
    """Messages and contacts of one user on one broker.

    Safe to use from several asyncio tasks at once (every call is its own short
    transaction on a pooled connection) and from several processes on the same file
    (WAL, with writers waiting up to a busy timeout for each other).
    Build it with :meth:`open`.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utc_now,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._clock = clock
        self._writer = Writer(Path(str(engine.url.database)), busy_timeout=busy_timeout)
        self.dismissals = Dismissals(self._sessions, self._now_ms)
        """Ignored requests and blocked users."""

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        busy_timeout: float = BUSY_TIMEOUT_S,
        within: Path | None = None,
    ) -> ChatStore:
        """Open (or create, with its parent folders) the database at ``path``, its
        owner's only (:func:`~mqchat.store.database.open_engine`). ``clock`` stamps
        contacts' ``added_at`` and rows' arrival time. Raises :class:`StoreOpenError`
        naming the file and the reason."""
        engine = await open_engine(path, busy_timeout=busy_timeout, within=within)
        return cls(engine, clock=clock, busy_timeout=busy_timeout)

    async def close(self) -> None:
        """Close every connection (the WAL is checkpointed by the last one). Idempotent."""
        await self._writer.close()
        await self._engine.dispose()

    async def __aenter__(self) -> ChatStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _now_ms(self) -> int:
        return to_ms(self._clock())

    # -- messages ---------------------------------------------------------------

    async def add_message(self, msg: ChatMessage) -> bool:
        """Store ``msg``. Returns ``False``, changing nothing, if its id is already
        stored (a QoS 1 redelivery)."""
        return msg.id in await self.add_messages([msg])

    async def add_messages(self, messages: Sequence[ChatMessage]) -> set[str]:
        """Store several messages in one transaction (a burst from the broker costs
        one commit, not one each). Returns the ids that were new; those already
        stored are left as they were. A repeated id within ``messages`` counts once,
        with its first version. On the store's own writer (one thread hop per call,
        see :mod:`mqchat.store.writer`): the hot path of every message."""
        if not messages:
            return set()
        return await self._writer.insert(messages, received_at_ms=self._now_ms())

    def add_messages_now(self, messages: Sequence[ChatMessage]) -> set[str] | None:
        """:meth:`add_messages` done before returning, if no other writer holds the
        file's write lock; otherwise ``None``, and nothing was stored. Never waits."""
        return self._writer.insert_now(messages, received_at_ms=self._now_ms())

    async def get_message(self, message_id: str) -> ChatMessage | None:
        async with self._sessions() as session:
            row = await session.get(MessageRow, message_id)
        return None if row is None else message_from_row(row)

    async def set_state(self, message_id: str, state: DeliveryState) -> ChatMessage | None:
        """Move a message to ``state`` if that is a step forward (see ``_OUT_FROM``;
        incoming messages may only go from ``received`` to ``read``). Returns the
        updated message, or ``None`` for an unknown id or a move that is not allowed
        or changes nothing."""
        out_from = _values(_OUT_FROM.get(state, ()))
        in_from = _values(_IN_FROM.get(state, ()))
        # One conditional UPDATE: the check and the change cannot be split by a
        # concurrent writer.
        stmt = (
            update(MessageRow)
            .where(MessageRow.id == message_id)
            .where(
                ((MessageRow.direction == Direction.OUT.value) & MessageRow.state.in_(out_from))
                | ((MessageRow.direction == Direction.IN.value) & MessageRow.state.in_(in_from))
            )
            .values(state=state.value)
            .returning(MessageRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            row = (await session.execute(stmt)).scalars().first()
        return None if row is None else message_from_row(row)

    async def advance_outgoing(
        self, ids: Sequence[str], state: DeliveryState, *, peer: str | None = None
    ) -> list[ChatMessage]:
        """:meth:`set_state` for many of our own messages in one transaction (a burst
        of PUBACKs, a receipt of 400 ids): each moves only if that is a step forward,
        and with ``peer`` only if it was sent to ``peer``; ids of incoming messages
        and unknown ids change nothing. Returns those updated, in the order of
        ``ids``."""
        return await self._writer.advance(ids, state, out_from=_OUT_FROM.get(state, ()), peer=peer)

    async def page_before(
        self, peer: str, before: ChatMessage | None, limit: int = 50
    ) -> list[ChatMessage]:
        """The ``limit`` newest messages with ``peer`` strictly older than ``before``
        by (timestamp, id), or the newest page when ``before`` is ``None``; oldest
        first. Keyset paging: each page costs the same however deep it is."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        stmt = select(MessageRow).where(MessageRow.conversation == peer)
        if before is not None:
            # A row value comparison, which SQLite turns into a range on the index.
            cursor = tuple_(MessageRow.ts_ms, MessageRow.id) < tuple_(to_ms(before.ts), before.id)
            stmt = stmt.where(cursor)
        stmt = stmt.order_by(*NEWEST_FIRST).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [message_from_row(row) for row in reversed(rows)]

    async def page_after(
        self, peer: str, after: ChatMessage | None, limit: int = 50
    ) -> list[ChatMessage]:
        """The ``limit`` oldest messages with ``peer`` strictly newer than ``after`` by
        (timestamp, id), or the oldest page when ``after`` is ``None``; oldest first.
        The mirror of :meth:`page_before`, for paging back down."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        stmt = select(MessageRow).where(MessageRow.conversation == peer)
        if after is not None:
            cursor = tuple_(MessageRow.ts_ms, MessageRow.id) > tuple_(to_ms(after.ts), after.id)
            stmt = stmt.where(cursor)
        stmt = stmt.order_by(*OLDEST_FIRST).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [message_from_row(row) for row in rows]

    async def conversation(self, peer: str) -> list[ChatMessage]:
        """Every message with ``peer``, oldest first."""
        stmt = select(MessageRow).where(MessageRow.conversation == peer).order_by(*OLDEST_FIRST)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [message_from_row(row) for row in rows]

    async def pending_outgoing(self) -> list[ChatMessage]:
        """The outbox: outgoing messages still ``pending``, oldest first."""
        return await self.outgoing_in_state(_S.PENDING)

    async def outgoing_in_state(
        self, state: DeliveryState, *, peer: str | None = None
    ) -> list[ChatMessage]:
        """Outgoing messages in ``state`` (to ``peer`` only, if given), oldest first."""
        where = [MessageRow.direction == Direction.OUT.value, MessageRow.state == state.value]
        if peer is not None:
            where.append(MessageRow.conversation == peer)
        stmt = select(MessageRow).where(*where).order_by(*OLDEST_FIRST)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [message_from_row(row) for row in rows]

    async def mark_read(self, peer: str, up_to: ChatMessage | None = None) -> list[str]:
        """Mark the unread messages from ``peer`` read, those up to ``up_to`` by
        (timestamp, id) when given, else all; returns their ids, sorted."""
        where = [MessageRow.conversation == peer, *UNREAD]
        if up_to is not None:
            where.append(
                tuple_(MessageRow.ts_ms, MessageRow.id) <= tuple_(to_ms(up_to.ts), up_to.id)
            )
        stmt = (
            update(MessageRow)
            .where(*where)
            .values(state=_S.READ.value)
            .returning(MessageRow.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            ids = (await session.scalars(stmt)).all()
        return sorted(ids)

    async def unread_count(self, peer: str) -> int:
        stmt = (
            select(func.count())
            .select_from(MessageRow)
            .where(MessageRow.conversation == peer, *UNREAD)
        )
        async with self._sessions() as session:
            return (await session.execute(stmt)).scalar_one()

    async def search(
        self,
        text: str,
        *,
        peer: str | None = None,
        before: ChatMessage | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        """Up to ``limit`` messages matching ``text`` (every word of it starts a word
        of the message, ignoring case and accents: :mod:`mqchat.core.search`), with
        ``peer`` only if given, newest first; with ``before``, only those older than
        it by (timestamp, id), for the next page. Any text is taken as words, never
        as query syntax; one without words finds nothing."""
        return await search_messages(self._sessions, text, peer=peer, before=before, limit=limit)

    # -- contacts ---------------------------------------------------------------

    async def add_contact(
        self,
        user: str,
        display_name: str | None = None,
        *,
        status: ContactStatus = ContactStatus.FRIEND,
    ) -> Contact:
        """Add ``user`` with ``status`` and return the stored contact. One already
        there keeps its status, and its display name unless ``display_name`` gives a
        new one. Raises :class:`~mqchat.core.names.InvalidUserName`."""
        validate_user_name(user)
        new = insert(ContactRow).values(
            user=user, display_name=display_name, added_at=self._now_ms(), status=status.value
        )
        stmt = new.on_conflict_do_update(
            index_elements=[ContactRow.user],
            # Without a new display name the stored one stays.
            set_={
                "display_name": func.coalesce(new.excluded.display_name, ContactRow.display_name)
            },
        ).returning(ContactRow)
        async with self._sessions.begin() as session:
            row = (await session.execute(stmt)).scalars().one()
        return contact_from_row(row)

    async def contact(self, user: str) -> Contact | None:
        """The contact ``user``, or ``None`` if unknown."""
        async with self._sessions() as session:
            row = await session.get(ContactRow, user)
        return None if row is None else contact_from_row(row)

    async def set_contact_status(self, user: str, status: ContactStatus) -> Contact | None:
        """Move ``user`` to ``status`` and return the updated contact, or ``None`` if
        unknown. Any request already sent is forgotten, so setting ``requested``
        (again) queues a new ``friend_request`` for :meth:`requests_to_send`."""
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
        """The ``requested`` contacts whose ``friend_request`` has not gone out yet
        (see :meth:`mark_request_sent`), oldest added first."""
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
        """Record, with the store's clock, that our ``friend_request`` to ``user`` went
        out. Does nothing unless ``user`` is (still) a ``requested`` contact."""
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
        """Forget ``user`` as a contact; the conversation stays. ``False`` if unknown."""
        stmt = delete(ContactRow).where(ContactRow.user == user).returning(ContactRow.user)
        async with self._sessions.begin() as session:
            return (await session.execute(stmt)).first() is not None

    async def contacts(self) -> list[Contact]:
        """All contacts by user name (case-insensitively)."""
        stmt = select(ContactRow).order_by(ContactRow.user.collate("NOCASE"), ContactRow.user)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [contact_from_row(row) for row in rows]

    async def contact_summaries(self) -> list[ContactSummary]:
        """Every contact with its unread count and last message (see
        :func:`mqchat.store.summaries.contact_summaries`)."""
        return await contact_summaries(self._sessions)

    # -- this database ----------------------------------------------------------

    async def device_id(self) -> str:
        """This database's device id: 12 random hex characters, made on the first call
        and the same ever after, across reopening and concurrent callers."""
        # Whoever inserts first wins; everyone then reads the winner's value.
        new = (
            insert(MetaRow)
            .values(key=_DEVICE_ID, value=secrets.token_hex(6))
            .on_conflict_do_nothing(index_elements=[MetaRow.key])
        )
        stored = select(MetaRow.value).where(MetaRow.key == _DEVICE_ID)
        async with self._sessions.begin() as session:
            await session.execute(new)
            return (await session.execute(stored)).scalar_one()
