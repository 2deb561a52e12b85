"""The rooms part of the chat backend (protocol v2): what the CLI and the UI ask of
rooms. A base of :class:`~mqchat.chat.service.ChatService`, which makes the parts
these use (:class:`~mqchat.chat.rooms.Rooms`, the group commit of sends)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from mqchat.chat.backend import SendError
from mqchat.chat.group_commit import GroupCommit
from mqchat.chat.rooms import Rooms
from mqchat.core.model import ChatMessage, ContactSummary
from mqchat.core.rooms import Room, RoomError, is_room_key, room_summary
from mqchat.store import ChatStore, StoreError

__all__ = ["RoomApi"]


class RoomApi:
    _rooms: Rooms
    _sending: GroupCommit

    @abstractmethod
    async def store(self) -> ChatStore:
        """The user's database, opened on first use."""

    async def room_summaries(self) -> list[ContactSummary]:
        """The rooms we are in, as the friends list shows them."""
        store = await self.store()
        summaries = []
        for room in await self._rooms.all():
            if room.joined:
                last = await store.page_before(room.key, None, 1)
                unread = await store.unread_count(room.key)
                summaries.append(room_summary(room, unread, last[-1] if last else None))
        return summaries

    async def rooms(self) -> list[Room]:
        """The rooms we know, those we left included (``joined`` says), by name."""
        return await self._rooms.all()

    async def room(self, name_or_id: str) -> Room:
        """Raises :class:`~mqchat.core.rooms.RoomError` for no such room."""
        return await self._rooms.find(name_or_id)

    async def create_room(self, name: str, members: Sequence[str]) -> Room:
        return await self._rooms.create(name, members)

    async def start_room(self, name: str, members: Sequence[str]) -> str:
        try:
            return (await self._rooms.create(name, members)).key
        except RoomError as exc:
            raise SendError(str(exc)) from None

    async def room_add(self, room: str, users: Sequence[str]) -> Room:
        return await self._rooms.add(room, users)

    async def room_remove(self, room: str, users: Sequence[str]) -> Room:
        return await self._rooms.remove(room, users)

    async def room_rename(self, room: str, name: str) -> Room:
        return await self._rooms.rename(room, name)

    async def leave_room(self, room: str) -> Room:
        return await self._rooms.leave(room)

    async def quit_room(self, key: str) -> None:
        try:
            await self._rooms.leave(key[1:] if is_room_key(key) else key)
        except RoomError as exc:
            raise SendError(str(exc)) from None

    async def send_room_text(self, room: str, body: str) -> ChatMessage:
        msg = await self._rooms.message(room, body)
        try:
            await self._sending.add(msg)  # stored, and queued for the outbox
        except StoreError as exc:
            raise SendError(f"not sent: the history cannot be written: {exc}") from exc
        return msg

    async def room_history(
        self, room: str, *, before: ChatMessage | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        key = (await self._rooms.find(room)).key
        return await (await self.store()).page_before(key, before, limit)

    async def read_by(self, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """For our room messages among ``ids``: (members who read it, members but
        us)."""
        return await self._rooms.read_by(ids)
