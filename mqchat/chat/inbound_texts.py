"""Peers' texts as they arrive, a batch at a time: stored once (one transaction),
each answered with a "delivered" receipt, the sender noted as a contact; texts from
blocked strangers dropped unread. One that comes again (our outbox sends it again
after a lost connection, sealed anew) is stored once, and answered again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from mqchat.chat.inbound_parts import Replies, Watchlist, received
from mqchat.core import friendship
from mqchat.core.envelope import ReceiptStatus, Text
from mqchat.core.events import ChatReceived, Event
from mqchat.core.model import ContactStatus
from mqchat.store import ChatStore

__all__ = ["receive_texts"]


async def receive_texts(
    store: ChatStore,
    texts: list[Text],
    *,
    arrived: datetime,
    max_age: timedelta,
    watchlist: Watchlist,
    replies: Replies,
    note_contact: Callable[[str, ContactStatus, str | None], Awaitable[None]],
    emit: Callable[[Event], None],
) -> None:
    strangers = {t.sender for t in texts if not watchlist.watches(t.sender)}
    if strangers and (blocked := await store.dismissals.blocked(strangers)):
        texts = [t for t in texts if t.sender not in blocked]  # dropped unread
        if not texts:
            return
    messages = [received(env, arrived, max_age) for env in texts]
    added = await store.add_messages(messages)
    shown: set[str] = set()
    for msg in messages:
        if msg.id not in added or msg.id in shown:
            # A redelivery (stored and shown once), or someone reusing another's id.
            known = await store.get_message(msg.id)
            if known is None or known.outgoing or known.sender != msg.sender:
                continue  # not theirs: no receipt, which would tell them the id exists
        # Also for a redelivery: a crash may have come between storing the
        # message and noting its sender, or sending the receipt.
        await note_contact(msg.sender, friendship.on_message(None), None)
        replies.queue_receipt(msg.sender, [msg.id], ReceiptStatus.DELIVERED)
        if msg.id in added and msg.id not in shown:
            shown.add(msg.id)
            emit(ChatReceived(msg))
