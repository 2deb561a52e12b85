"""What another of our devices sent, as its copy reaches us on our own inbox
(protocol v2, docs/protocol.md#devices; chat/own_devices.py sends them): texts are
stored as ours, "read" receipts mark the peer's messages read here too, friend
requests and accepts change the contact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mqchat.core.envelope import (
    FriendAccept,
    FriendRequest,
    Receipt,
    ReceiptStatus,
    Text,
    Typing,
    Unknown,
)
from mqchat.core.events import ChatReceived, ContactsChanged, Event, MessageStateChanged
from mqchat.core.model import ChatMessage, ContactStatus, DeliveryState, Direction
from mqchat.store import ChatStore

__all__ = ["copied_from_elsewhere", "own_texts"]

NoteContact = Callable[[str, ContactStatus, str | None], Awaitable[None]]


async def copied_from_elsewhere(
    store: ChatStore,
    env: Receipt | Typing | FriendRequest | FriendAccept | Unknown,
    emit: Callable[[Event], None],
    note_contact: NoteContact,
) -> None:
    """What another of our devices sent to a peer: its "read" tells us the peer's
    messages were read there; its friend request or accept, the contact's new
    status. Anything else of ours is ignored."""
    peer = env.recipient
    match env:
        case Receipt(status=ReceiptStatus.READ, ids=ids):
            for updated in await store.mark_read_elsewhere(peer, ids):
                emit(MessageStateChanged(updated.id, peer, updated.state))
        case FriendRequest():
            await note_contact(peer, ContactStatus.REQUESTED, None)
        case FriendAccept():
            known = await store.contact(peer)
            if known is not None and known.status is not ContactStatus.FRIEND:
                changed = await store.set_contact_status(peer, ContactStatus.FRIEND)
                emit(ContactsChanged(peer, changed))
        case _:
            pass


async def own_texts(store: ChatStore, texts: list[Text], emit: Callable[[Event], None]) -> None:
    """Copies of texts another of our devices sent: stored as ours, already sent."""
    messages = [
        ChatMessage(
            id=env.id,
            peer=env.recipient,
            direction=Direction.OUT,
            sender=env.sender,
            recipient=env.recipient,
            ts=env.ts,
            body=env.body,
            state=DeliveryState.SENT,
            sealed=env.encrypted,
        )
        for env in texts
    ]
    added = await store.add_messages(messages)
    for msg in messages:
        if msg.id in added:
            added.discard(msg.id)
            emit(ChatReceived(msg))
