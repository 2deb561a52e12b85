"""The inbound side's small parts: dropping the second copy of a message that came
twice, a peer's text as it is stored, and what it needs from the rest of the chat
(its contacts, its replies)."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

from mqchat.core.envelope import ReceiptStatus, Text
from mqchat.core.events import Notice
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.core.timing import effective_time
from mqchat.mqtt.incoming import Incoming

__all__ = [
    "RECENT",
    "REPLAYED",
    "REPLAY_AFTER_S",
    "Copies",
    "Replies",
    "Seen",
    "Watchlist",
    "received",
    "replay_notice",
]

RECENT = 4096
"""How many inbox messages :class:`Copies` remembers."""
REPLAY_AFTER_S = 2.0
"""The same bytes, at the same QoS, this long after they first came: a replay."""


Seen = OrderedDict[tuple[str, int], tuple[frozenset[int], float]]
"""Inbox messages handled lately, by topic and payload: the QoS each copy came
with, and when the first came."""


def _now() -> float:
    return time.monotonic()


class Copies:
    """A friend's message comes twice while we are online, once per matching
    subscription (chat/subscriptions.py): the same bytes on the same inbox topic, at
    QoS 0 through the whole inbox and at QoS 1 through the friend's topic. The second
    is dropped unread, whether it came in the same batch or a later one; a batch
    counts as handled only once it all was (:meth:`keep`), so a copy of something a
    failure left unstored is still handled.

    The same bytes again on an inbox topic, not retained, at a QoS they came with
    already, :data:`REPLAY_AFTER_S` or more after the first, are no such copy but a
    replay (someone published them again): dropped too, and listed in
    :attr:`replays`."""

    def __init__(self, recent: Seen) -> None:
        self._recent = recent
        self._now: dict[tuple[str, int], tuple[frozenset[int], float]] = {}
        self.replays: list[Incoming] = []

    def seen(self, message: Incoming) -> bool:
        if message.topic.endswith("/presence"):
            return False  # presence is idempotent, and must be read again after a loss
        key = (message.topic, hash(message.payload))
        known = self._now.get(key) or self._recent.get(key)
        if known is None:
            self._now[key] = (frozenset({message.qos}), _now())
            return False
        qos, since = known
        # (A retained message comes again with each subscription that matches it.)
        replayed = "/inbox/" in message.topic and not message.retain
        if replayed and message.qos in qos and _now() - since >= REPLAY_AFTER_S:
            self.replays.append(message)  # and its own second copy is none
            self._now[key] = (frozenset({message.qos}), _now())
        else:
            self._now[key] = (qos | {message.qos}, since)
        return True

    def unsee(self, message: Incoming) -> None:
        """``message`` was put aside, to be handled later: not a copy then."""
        self._now.pop((message.topic, hash(message.payload)), None)

    def keep(self) -> None:
        self._recent.update(self._now)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)


class Watchlist(Protocol):
    """The contacts whose presence the chat watches."""

    def watches(self, user: str) -> bool:
        """Whether ``user`` is a contact already (answered without a query)."""

    async def watch(self, user: str) -> None:
        """Watch ``user``, just stored as a new contact."""


class Replies(Protocol):
    """Where the answers to peers wait to be published (:class:`Outbound` does it)."""

    def queue_receipt(self, peer: str, ids: list[str], status: ReceiptStatus) -> None:
        """``peer``'s messages ``ids`` reached ``status`` here."""

    def queue_accept(self, peer: str) -> None:
        """Accept ``peer``'s friend request."""


def received(env: Text, arrived: datetime, max_age: timedelta) -> ChatMessage:
    """A peer's text as it is stored: at the sender's time, unless that was too far
    from ``arrived`` (:func:`~mqchat.core.timing.effective_time`)."""
    ts, claimed = effective_time(env.ts, arrived, max_age=max_age)
    return ChatMessage(
        id=env.id,
        peer=env.sender,
        direction=Direction.IN,
        sender=env.sender,
        recipient=env.recipient,
        ts=ts,
        body=env.body,
        state=DeliveryState.RECEIVED,
        claimed_ts=claimed,
        sealed=env.encrypted,
    )


REPLAYED = "the same message again, long after it came: replayed"


def replay_notice(message: Incoming) -> Notice | None:
    """The warning a replayed sealed message deserves (the topic's last level is its
    sender); ``None`` for plain text, which only counts."""
    if b'"sealed"' not in message.payload:
        return None
    return Notice(f"⚠ A message from {message.topic.rsplit('/', 1)[-1]} came again", REPLAYED)
