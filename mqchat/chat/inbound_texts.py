"""Peers' texts as they arrive, a batch at a time: stored once (one transaction),
each answered with a "delivered" receipt, the sender noted as a contact; texts from
blocked strangers dropped unread; a sealed text that comes again after it was
stored (a replay, the same ciphertext under the same id) refused, and said."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from mqchat.chat.inbound_parts import Replies, Watchlist, received
from mqchat.core import friendship
from mqchat.core.envelope import ReceiptStatus, Text
from mqchat.core.events import ChatReceived, Event, Notice
from mqchat.core.model import ContactStatus
from mqchat.core.topics import inbox_topic
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
    reject: Callable[[str, str], None],
    namespace: str,
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
            if msg.sealed and msg.id not in shown:
                why = f"a sealed message from {msg.sender} that was received before (replayed)"
                reject(inbox_topic(namespace, msg.recipient, msg.sender), why)
                emit(Notice(f"⚠ A message from {msg.sender} came again", why, "warning"))
        # Also for a redelivery: a crash may have come between storing the
        # message and noting its sender, or sending the receipt.
        await note_contact(msg.sender, friendship.on_message(None), None)
        replies.queue_receipt(msg.sender, [msg.id], ReceiptStatus.DELIVERED)
        if msg.id in added and msg.id not in shown:
            shown.add(msg.id)
            emit(ChatReceived(msg))
