"""Sending again what a broker may have lost: when a reconnect finds that the broker
no longer has our session (restarted without persistence, or the session expired),
what it had queued for offline peers is gone with it. Our messages it has not
confirmed delivered go again, at once and when each of those peers is next online;
receivers drop a copy they already have (the id). The same happens when a peer
accepts our friend request: what we wrote before found no subscription of theirs
that queues it (docs/protocol.md, "Subscriptions")."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from mqchat.chat.outbound import Outbound
from mqchat.core.events import Event, Notice
from mqchat.core.model import DeliveryState
from mqchat.core.tasks import Background
from mqchat.store import ChatStore

__all__ = ["Redelivery"]

log = logging.getLogger(__name__)


class Redelivery:
    def __init__(
        self,
        *,
        store: Callable[[], Awaitable[ChatStore]],
        outbound: Outbound,
        emit: Callable[[Event], None],
    ) -> None:
        self._store = store
        self._outbound = outbound
        self._emit = emit
        self._unconfirmed: set[str] = set()  # peers to send again to when online
        self._background = Background(log, "sending again").run

    async def session_lost(self) -> None:
        """The broker no longer had our session: send again, and tell the user."""
        sent = await (await self._store()).outgoing_in_state(DeliveryState.SENT)
        if not sent:
            return
        for msg in sent:
            self._outbound.queue_message(msg)
        self._unconfirmed |= {msg.peer for msg in sent}
        self._emit(
            Notice(
                "The broker lost its session",
                f"{len(sent)} sent message(s) not yet delivered are being sent again "
                "(the broker restarted without persistence, or our session expired).",
            )
        )

    def peer_online(self, peer: str) -> None:
        """``peer`` is online: our unconfirmed messages to them go again (once)."""
        if peer in self._unconfirmed:
            self._unconfirmed.discard(peer)
            self._background(self.resend_to(peer))

    async def resend_to(self, peer: str) -> None:
        """Send again our messages to ``peer`` that no receipt confirmed (also when
        they accept us: what we sent before may have found no subscription)."""
        store = await self._store()
        for msg in await store.outgoing_in_state(DeliveryState.SENT, peer=peer):
            self._outbound.queue_message(msg)
