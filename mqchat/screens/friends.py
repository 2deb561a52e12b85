"""Home after login: the contacts with their presence, unread counts and last
message. Opens conversations, adds and removes friends, and leads to the roster."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList, Static

from mqchat.domain import ContactSummary
from mqchat.screens.base import Session, SessionScreen
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.modals import AddContactScreen, ConfirmScreen
from mqchat.screens.presence import PresenceScreen
from mqchat.ui_messages import ChatReceivedMsg, MessageStateChangedMsg, PresenceChangedMsg
from mqchat.widgets.contact_list import ContactList

__all__ = ["FriendsScreen"]


class FriendsScreen(SessionScreen):
    CSS_PATH = "friends.tcss"
    BINDINGS = [
        Binding("a", "add", "Add friend", id="friends.add"),
        Binding("d", "remove", "Remove", id="friends.remove"),
        Binding("p", "presence", "Presence", id="friends.presence"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.summaries: list[ContactSummary] = []
        self._select: str | None = None

    def compose_body(self) -> Iterable[Widget]:
        contacts = ContactList(self.session.clock, id="contacts")
        contacts.border_title = "Friends"
        yield contacts
        yield Static("No friends yet. Press a to add someone by their user name.", id="no-friends")

    def on_mount(self) -> None:
        self.query_one(ContactList).focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Fetch the contacts again (rapid calls collapse into the last one), then
        highlight ``select`` if given."""
        if select is not None:
            self._select = select
        self._reload()

    @work(group="contacts", exclusive=True)
    async def _reload(self) -> None:
        self.summaries = await self.backend.contacts()
        select, self._select = self._select, None
        self._show(select)

    def _show(self, select: str | None = None) -> None:
        backend = self.backend
        rows = [(s, backend.presence(s.contact.user)) for s in self.summaries]
        self.query_one(ContactList).show(rows, select=select)
        self.query_one("#no-friends").display = not rows

    def on_chat_received_msg(self, _msg: ChatReceivedMsg) -> None:
        self.reload()

    def on_message_state_changed_msg(self, _msg: MessageStateChangedMsg) -> None:
        self.reload()

    def on_presence_changed_msg(self, msg: PresenceChangedMsg) -> None:
        users = {s.contact.user for s in self.summaries}
        if msg.event.presence.user in users:
            self._show()

    @on(OptionList.OptionSelected, "#contacts")
    def open_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.open_conversation(event.option.id)

    def open_conversation(self, peer: str) -> None:
        self.app.push_screen(ConversationScreen(self.session, peer))

    def action_add(self) -> None:
        self.app.push_screen(AddContactScreen(), self._added)

    async def _added(self, user: str | None) -> None:
        if user is not None and await self.add_contact(user):
            self.reload(select=user)

    def action_remove(self) -> None:
        user = self.query_one(ContactList).highlighted_user
        if user is None:
            self.notify("Nobody is selected.", severity="warning")
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.backend.remove_contact(user)
                self.notify(f"Removed {user}; the conversation is kept.", markup=False)
                self.reload()

        question = f"Remove {user} from your friends? The conversation history stays."
        self.app.push_screen(ConfirmScreen(question), answered)

    def action_presence(self) -> None:
        self.app.push_screen(PresenceScreen(self.session))
