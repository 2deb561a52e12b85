"""The persistent side of the chat: messages and contacts in one SQLite file, read
and written as the frozen domain dataclasses.

Two ways into the file. What opening a conversation, sending and receiving touch
is plain SQL on the store's own connections (:mod:`mqchat.store.plain`,
:mod:`mqchat.store.writer`). The rest goes through SQLAlchemy's ORM
(:mod:`mqchat.store.orm_store`), which is loaded on its first use, in a thread: its
import is a third of mqchat's start-up, so the first screen is drawn without it. The
schema is the ORM models' either way; a new or older file is created or migrated by
:func:`~mqchat.store.database.open_engine` when it is opened."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from mqchat.core.edits import Outcome
from mqchat.core.model import (
    ChatMessage,
    Contact,
    ContactStatus,
    ContactSummary,
    DeliveryState,
    utc_now,
)
from mqchat.core.names import validate_user_name
from mqchat.core.wire import to_millis
from mqchat.store import plain
from mqchat.store.convert import to_ms
from mqchat.store.dismissals import Dismissals
from mqchat.store.key_statements import KeyBook
from mqchat.store.room_statements import RoomBook
from mqchat.store.search_index import SearchIndexer
from mqchat.store.sqlite_file import BUSY_TIMEOUT_S, open_if_current, prepare_file
from mqchat.store.writer import Writer

if TYPE_CHECKING:
    from mqchat.store.orm_store import OrmStore

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


class ChatStore:
    """Messages and contacts of one user on one broker.

    Safe to use from several asyncio tasks at once (every call is its own short
    transaction on a pooled connection) and from several processes on the same file
    (WAL, with writers waiting up to a busy timeout for each other).
    Build it with :meth:`open`.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        busy_timeout: float = BUSY_TIMEOUT_S,
        connection: sqlite3.Connection | None = None,
    ) -> None:
        self._path = path
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._writer = Writer(path, busy_timeout=busy_timeout, inline=connection)
        self._orm_store: OrmStore | None = None
        self._orm_loading: asyncio.Future[OrmStore] | None = None
        self._indexer = SearchIndexer(self._writer)
        self.dismissals = Dismissals(self._writer, self._now_ms)
        self.rooms = RoomBook(self._writer)
        """The rooms this device knows (protocol v2)."""
        self.keys = KeyBook(self._writer)
        """The peers' keys this device trusts (protocol v3)."""
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
        owner's only (:func:`~mqchat.store.sqlite_file.prepare_file`). ``clock``
        stamps contacts' ``added_at`` and rows' arrival time. Raises
        :class:`StoreOpenError` naming the file and the reason.

        A file with the current schema is used as it is, without loading the ORM;
        any other (new, older, newer, damaged) goes through
        :func:`~mqchat.store.database.open_engine`, which makes it current or says
        why it cannot."""
        prepare_file(path, within=within)
        if (conn := open_if_current(path)) is not None:
            return cls(path, clock=clock, busy_timeout=busy_timeout, connection=conn)
        from mqchat.store.database import open_engine
        from mqchat.store.orm_store import OrmStore

        engine = await open_engine(path, busy_timeout=busy_timeout, within=within)
        store = cls(path, clock=clock, busy_timeout=busy_timeout)
        store._orm_store = OrmStore(engine, store._now_ms)
        return store

    async def close(self) -> None:
        """Close every connection (the WAL is checkpointed by the last one). Idempotent."""
        await self._indexer.close()
        await self._writer.close()
        loading, self._orm_loading = self._orm_loading, None
        if loading is not None and self._orm_store is None:
            # Loading still: wait for it, so its engine is disposed of too.
            with contextlib.suppress(Exception):
                self._orm_store = await asyncio.shield(loading)
        orm, self._orm_store = self._orm_store, None
        if orm is not None:
            await orm.close()

    async def _orm(self) -> OrmStore:
        """The ORM's side, loaded (in a thread, once) on first use."""
        if self._orm_store is not None:
            return self._orm_store
        if self._orm_loading is None:
            self._orm_loading = asyncio.ensure_future(asyncio.to_thread(self._load_orm))
        loading = self._orm_loading
        try:
            orm = await asyncio.shield(loading)
        except BaseException:
            if loading.done() and self._orm_loading is loading:
                self._orm_loading = None  # a failed load is tried again next time
            raise
        self._orm_store = orm
        return orm

    def _load_orm(self) -> OrmStore:
        from mqchat.store.orm_store import OrmStore

        return OrmStore.on(self._path, busy_timeout=self._busy_timeout, now_ms=self._now_ms)

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
        new = await self._writer.insert(messages, received_at_ms=self._now_ms())
        if new:
            self._indexer.soon()
        return new

    def add_messages_now(self, messages: Sequence[ChatMessage]) -> set[str] | None:
        """:meth:`add_messages` done before returning, if no other writer holds the
        file's write lock; otherwise ``None``, and nothing was stored. Never waits."""
        new = self._writer.insert_now(messages, received_at_ms=self._now_ms())
        if new:
            self._indexer.soon()
        return new

    async def get_message(self, message_id: str) -> ChatMessage | None:
        return await self._writer.run(plain.get_message(message_id))

    async def change_message(
        self,
        target: str,
        sender: str,
        *,
        body: str | None,
        at: datetime,
        publish: plain.Publish | None = None,
    ) -> tuple[Outcome, ChatMessage | None]:
        """``sender`` edits the message ``target`` to ``body``, or deletes it when
        ``body`` is ``None``, if it is theirs (:func:`~mqchat.core.edits.judge`);
        one of ours keeps its envelope (``publish``) until :meth:`change_sent`.
        Returns the outcome and the message as it is now (``None``: unknown id)."""
        work = plain.change_message(target, sender, body, to_millis(at), publish)
        return await self._writer.run(work)

    async def outgoing_changes(self) -> list[plain.Publish]:
        """Our edits and deletes not yet acknowledged, oldest first."""
        return await self._writer.run(plain.outgoing_changes())

    async def change_sent(self, change_id: str) -> None:
        await self._writer.run(plain.change_sent(change_id))

    async def set_state(self, message_id: str, state: DeliveryState) -> ChatMessage | None:
        """Move a message to ``state`` if that is a step forward (see ``_OUT_FROM``;
        incoming messages may only go from ``received`` to ``read``). Returns the
        updated message, or ``None`` for an unknown id or a move that is not allowed
        or changes nothing."""
        # One conditional UPDATE: the check and the change cannot be split by a
        # concurrent writer.
        changed = await self._writer.advance(
            [message_id],
            state,
            out_from=_OUT_FROM.get(state, ()),
            in_from=_IN_FROM.get(state, ()),
        )
        return changed[0] if changed else None

    async def advance_outgoing(
        self, ids: Sequence[str], state: DeliveryState, *, peer: str | None = None
    ) -> list[ChatMessage]:
        """:meth:`set_state` for many of our own messages in one transaction (a burst
        of PUBACKs, a receipt of 400 ids): each moves only if that is a step forward,
        and with ``peer`` only if it was sent to ``peer``; ids of incoming messages
        and unknown ids change nothing. Returns those updated, in the order of
        ``ids``."""
        return await self._writer.advance(ids, state, out_from=_OUT_FROM.get(state, ()), peer=peer)

    async def mark_read_elsewhere(self, peer: str, ids: Sequence[str]) -> list[ChatMessage]:
        """``peer``'s messages ``ids``, read on another of our devices: marked read
        here (those still unread); returns them."""
        return await self._writer.advance(
            ids, _S.READ, out_from=(), in_from=_IN_FROM[_S.READ], peer=peer
        )

    async def page_before(
        self, peer: str, before: ChatMessage | None, limit: int = 50
    ) -> list[ChatMessage]:
        """The ``limit`` newest messages with ``peer`` strictly older than ``before``
        by (timestamp, id), or the newest page when ``before`` is ``None``; oldest
        first. Keyset paging: each page costs the same however deep it is."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        return await self._writer.run(plain.page(peer, before, limit, older=True))

    async def page_after(
        self, peer: str, after: ChatMessage | None, limit: int = 50
    ) -> list[ChatMessage]:
        """The ``limit`` oldest messages with ``peer`` strictly newer than ``after`` by
        (timestamp, id), or the oldest page when ``after`` is ``None``; oldest first.
        The mirror of :meth:`page_before`, for paging back down."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        return await self._writer.run(plain.page(peer, after, limit, older=False))

    async def conversation(self, peer: str) -> list[ChatMessage]:
        """Every message with ``peer``, oldest first."""
        return await (await self._orm()).conversation(peer)

    async def pending_outgoing(self) -> list[ChatMessage]:
        """The outbox: outgoing messages still ``pending``, oldest first."""
        return await self.outgoing_in_state(_S.PENDING)

    async def outgoing_in_state(
        self, state: DeliveryState, *, peer: str | None = None
    ) -> list[ChatMessage]:
        """Outgoing messages in ``state`` (to ``peer`` only, if given), oldest first."""
        return await self._writer.run(plain.outgoing_in_state(state, peer))

    async def mark_read(self, peer: str, up_to: ChatMessage | None = None) -> list[str]:
        """Mark the unread messages from ``peer`` read, those up to ``up_to`` by
        (timestamp, id) when given, else all; returns their ids, sorted."""
        return await self._writer.run(plain.mark_read(peer, up_to))

    async def unread_count(self, peer: str) -> int:
        return await self._writer.run(plain.unread_count(peer))

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
        await self._indexer.now()  # every message stored so far, by anyone
        return await (await self._orm()).search(text, peer=peer, before=before, limit=limit)

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
        return await self._writer.run(plain.add_contact(user, display_name, status, self._now_ms()))

    async def contact(self, user: str) -> Contact | None:
        """The contact ``user``, or ``None`` if unknown."""
        return await self._writer.run(plain.contact(user))

    async def set_contact_status(self, user: str, status: ContactStatus) -> Contact | None:
        """Move ``user`` to ``status`` and return the updated contact, or ``None`` if
        unknown. Any request already sent is forgotten, so setting ``requested``
        (again) queues a new ``friend_request`` for :meth:`requests_to_send`."""
        return await (await self._orm()).set_contact_status(user, status)

    async def requests_to_send(self) -> list[Contact]:
        """The ``requested`` contacts whose ``friend_request`` has not gone out yet
        (see :meth:`mark_request_sent`), oldest added first."""
        return await (await self._orm()).requests_to_send()

    async def mark_request_sent(self, user: str) -> None:
        """Record, with the store's clock, that our ``friend_request`` to ``user`` went
        out. Does nothing unless ``user`` is (still) a ``requested`` contact."""
        return await (await self._orm()).mark_request_sent(user)

    async def remove_contact(self, user: str) -> bool:
        """Forget ``user`` as a contact; the conversation stays. ``False`` if unknown."""
        return await (await self._orm()).remove_contact(user)

    async def contacts(self) -> list[Contact]:
        """All contacts by user name (case-insensitively)."""
        return await self._writer.run(plain.contacts())

    async def contact_summaries(self) -> list[ContactSummary]:
        """Every contact with its unread count and last message (see
        :func:`mqchat.store.plain.contact_summaries`)."""
        return await self._writer.run(plain.contact_summaries())

    # -- this database ----------------------------------------------------------

    async def device_id(self) -> str:
        """This database's device id: 12 random hex characters, made on the first call
        and the same ever after, across reopening and concurrent callers."""
        return await self._writer.run(plain.device_id(_DEVICE_ID, secrets.token_hex(6)))
