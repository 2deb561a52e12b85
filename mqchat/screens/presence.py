"""Everyone in the namespace whose presence is known, online first, with where they
stand with us and a key to ask any of them to be a friend (or accept them)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mqchat.core.model import ContactStatus, Presence
from mqchat.screens.base import Session, SessionScreen
from mqchat.screens.messages import ConnectionChangedMsg, ContactsChangedMsg, PresenceChangedMsg
from mqchat.widgets.contact_list import contact_label
from mqchat.widgets.render import presence_words, short_when

__all__ = ["PresenceScreen", "roster_row"]

log = logging.getLogger(__name__)

USER_WIDTH = 28
STATE_WIDTH = 9
WHEN_WIDTH = 20


_TAGS = {
    ContactStatus.FRIEND: "(friend)",
    ContactStatus.REQUESTED: "(request sent)",
    ContactStatus.INCOMING: "(wants to be your friend)",
}


def roster_row(
    presence: Presence,
    now: datetime,
    *,
    contact: ContactStatus | None,
    me: bool,
    known: bool = True,
) -> Text:
    """``● bob     online    since 13:02   (friend)``; ``contact`` is where they stand
    with us (``None``: not a contact); not ``known``: ``◌ bob  unknown`` and no times,
    since what we last heard may be stale."""
    marker, words, style = presence_words(presence, now, known=known)
    row = Text.assemble((f"{marker} ", style), end="")
    friend = me or contact is ContactStatus.FRIEND
    user = contact_label(presence.user, presence.name, friend=friend, width=USER_WIDTH - 1)
    user.pad_right(USER_WIDTH - user.cell_len)
    row.append_text(user)
    row.append(f"{words if not known else presence.state.value:<{STATE_WIDTH}}", style=style)
    when = ""
    if known and presence.since is not None:
        verb = "since" if presence.online else "last seen"
        when = f"{verb} {short_when(presence.since, now)}"
    row.append(f"{when:<{WHEN_WIDTH}}", style="dim")
    tags = []
    if known and presence.lost:
        tags.append("(connection lost)")
    if me:
        tags.append("(you)")
    elif contact is not None:
        tags.append(_TAGS[contact])
    row.append(" ".join(tags), style="dim")
    return row


class PresenceScreen(SessionScreen):
    CSS_PATH = "presence.tcss"
    BINDINGS = [
        Binding("a", "add", "Add friend", id="presence.add"),
        Binding("escape", "back", "Back", id="presence.back"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.contacts: dict[str, ContactStatus] = {}
        self._watching = False

    def compose_body(self) -> Iterable[Widget]:
        roster = OptionList(id="roster")
        roster.border_title = "Presence · everyone on this broker"
        yield roster
        yield Static("Nobody seen yet.", id="nobody")

    async def on_mount(self) -> None:
        self.query_one("#roster", OptionList).focus()
        self.contacts = {s.contact.user: s.contact.status for s in await self.backend.contacts()}
        self._watching = True
        await self.backend.watch_roster(True)
        self.show()

    def show(self) -> None:
        roster = self.query_one("#roster", OptionList)
        keep = roster.highlighted_option.id if roster.highlighted_option else None
        now = self.session.clock()
        people = self.backend.roster()
        roster.set_options(
            Option(
                roster_row(
                    p,
                    now,
                    contact=self.contacts.get(p.user),
                    me=p.user == self.backend.user,
                    known=self.status.online,
                ),
                id=p.user,
            )
            for p in people
        )
        users = [p.user for p in people]
        if users:
            roster.highlighted = users.index(keep) if keep in users else 0
        self.query_one("#nobody").display = not users

    def on_presence_changed_msg(self, _msg: PresenceChangedMsg) -> None:
        self.show()

    def on_connection_changed_msg(self, msg: ConnectionChangedMsg) -> None:
        super().on_connection_changed_msg(msg)
        self.show()

    def on_contacts_changed_msg(self, msg: ContactsChangedMsg) -> None:
        user, contact = msg.event.user, msg.event.contact
        if contact is None:
            self.contacts.pop(user, None)
        else:
            self.contacts[user] = contact.status
        self.show()

    async def action_add(self) -> None:
        option = self.query_one("#roster", OptionList).highlighted_option
        if option is None or option.id is None:
            return
        user = option.id
        if user == self.backend.user:
            self.notify("That is you.", severity="warning")
            return
        if self.contacts.get(user) is ContactStatus.FRIEND:
            self.notify(f"{user} is already a friend.", markup=False)
            return
        contact = await self.add_contact(user)
        if contact is not None:
            self.contacts[user] = contact.status
            self.show()

    async def action_back(self) -> None:
        await self._unwatch()
        self.dismiss()

    async def on_unmount(self) -> None:
        await self._unwatch()

    async def _unwatch(self) -> None:
        if not self._watching:
            return
        self._watching = False
        try:
            await self.backend.watch_roster(False)
        except Exception:  # leaving the view must never fail, e.g. while shutting down
            log.debug("watch_roster(False) failed", exc_info=True)
