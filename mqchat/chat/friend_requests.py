"""A peer's friend request or accept, as it arrives (docs/protocol.md#friend-requests):
the contact's new status, and the accept we owe them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mqchat.chat.inbound_parts import Replies
from mqchat.core import friendship
from mqchat.core.envelope import FriendAccept, FriendRequest
from mqchat.core.events import ContactsChanged, Event
from mqchat.core.model import ContactStatus
from mqchat.store import ChatStore
from mqchat.store.convert import to_ms

__all__ = ["receive_accept", "receive_request"]

NoteContact = Callable[[str, ContactStatus, str | None], Awaitable[None]]


async def receive_request(
    store: ChatStore,
    env: FriendRequest,
    *,
    note_contact: NoteContact,
    replies: Replies,
    emit: Callable[[Event], None],
) -> None:
    known = await store.contact(env.sender)
    if known is None:
        ignored = await store.dismissals.get(env.sender)
        if ignored is not None and (ignored.blocked or to_ms(env.ts) <= ignored.until_ms):
            return  # blocked, or the very request the user ignored
    status, reply = friendship.on_request(known.status if known else None)
    if known is None:
        await note_contact(env.sender, status, env.name)
    elif status is not known.status:
        emit(ContactsChanged(env.sender, await store.set_contact_status(env.sender, status)))
    if reply is friendship.Reply.ACCEPT:
        replies.queue_accept(env.sender)


async def receive_accept(
    store: ChatStore, env: FriendAccept, emit: Callable[[Event], None]
) -> None:
    known = await store.contact(env.sender)
    if known is None:
        return
    status = friendship.on_accept(known.status)
    if status is not None and status is not known.status:
        emit(ContactsChanged(env.sender, await store.set_contact_status(env.sender, status)))
