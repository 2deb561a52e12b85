"""The contacts side of the chat: adding, accepting, ignoring and blocking, with the
subscriptions following each contact as the store has it (a friend's inbox held at
QoS 1, a stranger's not), a new friend's retained request cleared and what we sent
them before the accept sent again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from mqchat.chat.outbound import Outbound
from mqchat.chat.redelivery import Redelivery
from mqchat.chat.subscriptions import Subscriptions
from mqchat.core import friendship
from mqchat.core.events import ContactsChanged
from mqchat.core.model import Contact, ContactStatus
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.tasks import Background
from mqchat.store import ChatStore

__all__ = ["ContactBook"]

log = logging.getLogger(__name__)


def _trusted(status: ContactStatus) -> bool:
    """Whose inbox topic we hold at QoS 1: friends, and those we asked (their accept
    and first messages must not be lost while we are away)."""
    return status in (ContactStatus.FRIEND, ContactStatus.REQUESTED)


class ContactBook:
    """Also the inbound side's :class:`~mqchat.chat.inbound.Watchlist`."""

    def __init__(
        self,
        *,
        user: str,
        store: Callable[[], Awaitable[ChatStore]],
        subscriptions: Subscriptions,
        outbound: Outbound,
        redelivery: Redelivery,
    ) -> None:
        self._user = user
        self._store = store
        self._subs = subscriptions
        self._outbound = outbound
        self._redelivery = redelivery
        self._background = Background(log, "following a contact").run

    async def load(self) -> None:
        """Subscribe for every stored contact (one ``add`` may have come first)."""
        for contact in await (await self._store()).contacts():
            if contact.user not in self._subs.contacts:
                self._subs.set_contact(contact.user, trusted=_trusted(contact.status))

    async def add(self, user: str) -> Contact:
        validate_user_name(user, what="contact name")
        if user == self._user:
            raise InvalidUserName("you cannot add yourself as a contact")
        store = await self._store()
        known = await store.contact(user)
        await store.dismissals.lift(user)
        status, reply = friendship.on_add(known.status if known else None)
        if known is None:
            contact = await store.add_contact(user, status=status)
            if contact.status is not status:
                # Their request was stored between our look and our insert (which
                # then kept it): answer it as if it had been there first.
                status, reply = friendship.on_add(contact.status)
                contact = await store.set_contact_status(user, status) or contact
        elif status is not known.status:
            contact = await store.set_contact_status(user, status) or known
        else:
            contact = known
        if reply is friendship.Reply.ACCEPT:
            self._outbound.queue_accept(user)
        elif reply is friendship.Reply.REQUEST:
            self._outbound.queue_requests()
        self._subs.set_contact(user, trusted=_trusted(contact.status))
        await self._subs.sync()
        return contact

    def watches(self, user: str) -> bool:
        """Whether ``user`` is a contact (their presence is watched)."""
        return user in self._subs.contacts

    async def watch(self, user: str) -> None:
        """``user`` just became a contact on the inbound side (a request, or a
        stranger who wrote): watch their presence; their inbox stays untrusted."""
        if user not in self._subs.contacts:
            self._subs.set_contact(user, trusted=False)
            await self._subs.sync()

    async def dismiss(self, users: list[str], *, block: bool) -> None:
        store = await self._store()
        for user in users:
            known = await store.contact(user)
            await store.remove_contact(user)
            if known is not None and known.status is ContactStatus.REQUESTED:
                self._outbound.queue_clear_request(user)  # we no longer ask
            self._subs.forget(user)
        # A request of theirs stays retained at the broker: remember that whatever
        # they asked until now was answered (a later request shows again, unless
        # blocked).
        await store.dismissals.dismiss(users, block=block)
        await self._subs.sync()

    def changed(self, event: ContactsChanged) -> None:
        """The inbound side changed a contact: a new friend gets what we sent before
        they accepted, and our retained request to them is cleared."""
        if event.contact is not None and event.contact.status is ContactStatus.FRIEND:
            self._outbound.queue_clear_request(event.user)
            self._background(self._redelivery.resend_to(event.user))
        self._background(self._follow(event.user))

    async def _follow(self, user: str) -> None:
        """Subscriptions follow the contact as the store has it now: an event may
        already be stale (an ``add`` of ours may have come after it)."""
        contact = await (await self._store()).contact(user)
        if contact is None:
            self._subs.forget(user)
        else:
            self._subs.set_contact(user, trusted=_trusted(contact.status))
        await self._subs.sync()
