"""What the chat backend reads and changes in the store on the UI's behalf:
contacts, the history and search, read marks, presence, and our own edits and
deletes. A base of :class:`~mqchat.chat.service.ChatService`, which owns the
connection and everything these use."""

from __future__ import annotations

import logging
from abc import abstractmethod

from mqchat.chat.backend import ChatBackend
from mqchat.chat.contacts import ContactBook
from mqchat.chat.edits import Edits
from mqchat.chat.encryption import Encryption
from mqchat.chat.outbound import Outbound
from mqchat.chat.subscriptions import Subscriptions
from mqchat.core.envelope import ReceiptStatus
from mqchat.core.events import Event, Notice
from mqchat.core.model import ChatMessage, Contact, ContactSummary, Presence
from mqchat.core.rooms import is_room_key, with_rooms
from mqchat.core.roster import Roster
from mqchat.core.trust import KeyTrust
from mqchat.store import ChatStore, StoreError

__all__ = ["ServiceReads"]

log = logging.getLogger("mqchat.chat")


class ServiceReads(ChatBackend):
    """The store-facing half of the backend contract; the parts it needs are made
    by :class:`~mqchat.chat.service.ChatService`."""

    _contacts: ContactBook
    _outbound: Outbound
    _roster: Roster
    _subs: Subscriptions
    _edits: Edits
    encryption: Encryption

    @abstractmethod
    async def store(self) -> ChatStore:
        """The user's database, opened on first use."""

    @abstractmethod
    def _emit(self, event: Event) -> None:
        """Report ``event`` to the listener."""

    # -- contacts, history, presence ------------------------------------------------------

    @abstractmethod
    async def room_summaries(self) -> list[ContactSummary]:
        """The rooms we are in, as the friends list shows them."""

    async def contacts(self) -> list[ContactSummary]:
        people = await (await self.store()).contact_summaries()
        return with_rooms(people, await self.room_summaries())

    async def contact(self, user: str) -> Contact | None:
        return await (await self.store()).contact(user)

    async def add_contact(self, user: str) -> Contact:
        return await self._contacts.add(user)

    async def remove_contact(self, user: str) -> None:
        await self._contacts.dismiss([user], block=False)

    async def dismiss_requests(self, users: list[str], *, block: bool) -> None:
        await self._contacts.dismiss(users, block=block)

    async def history(
        self, peer: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        return await (await self.store()).page_before(peer, before, limit)

    async def search(
        self,
        text: str,
        *,
        peer: str | None = None,
        before: ChatMessage | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        store = await self.store()
        return await store.search(text, peer=peer, before=before, limit=limit)

    async def history_after(
        self, peer: str, after: ChatMessage | None, *, limit: int = 50
    ) -> list[ChatMessage]:
        return await (await self.store()).page_after(peer, after, limit)

    async def mark_read(self, peer: str, up_to: ChatMessage | None = None) -> None:
        try:
            store = await self.store()
            ids = await store.mark_read(peer, up_to)
            # In a room each sender hears of their own messages only.
            by_sender = await store.rooms.senders(ids) if is_room_key(peer) else {peer: ids}
        except StoreError as exc:  # they stay unread; the peer is not told they were read
            log.error("could not mark %s's messages read: %s", peer, exc)
            self._emit(Notice("History not written", f"{exc}", "error"))
            return
        for sender, theirs in by_sender.items():
            self._outbound.queue_receipt(sender, theirs, ReceiptStatus.READ)

    def presence(self, user: str) -> Presence | None:
        return self._roster.get(user)

    def roster(self) -> list[Presence]:
        return self._roster.everyone()

    async def watch_roster(self, on: bool) -> None:
        self._subs.set_roster(on)
        await self._subs.sync()

    # -- our own edits and deletes ------------------------------------------------------

    async def edit_text(self, peer: str, message_id: str, body: str) -> ChatMessage:
        return await self._edits.edit(peer, message_id, body)

    async def delete_text(self, peer: str, message_id: str) -> ChatMessage:
        return await self._edits.delete(peer, message_id)

    # -- end-to-end encryption ------------------------------------------------------

    def trust(self, user: str) -> KeyTrust:
        return self.encryption.trust(user)

    def safety_number(self, user: str) -> str | None:
        return self.encryption.safety_number(user) if self.encryption.devices(user) else None

    async def verify(self, user: str) -> KeyTrust:
        return await self.encryption.verify(user)

    def unseal(self, topic: str, payload: bytes) -> bytes | None:
        return self.encryption.peek(topic, payload)
