"""Home after login: friend requests first, then the contacts with their presence,
unread counts and last message. Opens conversations, adds, accepts, ignores and
removes contacts, and leads to the roster and the user's devices."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList, Static

from mqchat.chat.backend import SendError
from mqchat.core.model import ChatMessage, Contact, ContactStatus, ContactSummary
from mqchat.screens.base import TYPING_FADE, Session, SessionScreen, TypingPeers
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.devices import DevicesScreen
from mqchat.screens.messages import (
    ChatReceivedMsg,
    ConnectionChangedMsg,
    ContactsChangedMsg,
    DevicesChangedMsg,
    MessageChangedMsg,
    MessageStateChangedMsg,
    PeerTypingMsg,
    PresenceChangedMsg,
    RoomChangedMsg,
    TrustChangedMsg,
)
from mqchat.screens.modals import AddContactScreen, ConfirmScreen
from mqchat.screens.new_room import NewRoomScreen
from mqchat.screens.presence import PresenceScreen
from mqchat.screens.room import RoomScreen
from mqchat.screens.search_all import SEARCH_ALL_LIMIT, SearchAllScreen
from mqchat.widgets.contact_list import ContactList, contact_label

__all__ = ["FriendsScreen", "request_toast"]


def _name(contact: Contact) -> str:
    """``Carol (carol)`` for a friend, ``carol “Carol”`` for anyone else: the user name
    always shows, a display name proves nothing (see :func:`contact_label`)."""
    friend = contact.status is ContactStatus.FRIEND
    return contact_label(contact.user, contact.display_name, friend=friend).plain


def request_toast(contact: Contact, *, here: bool) -> str:
    """``carol wants to be your friend — y accepts`` (``here``: on the friends list)."""
    how = "y accepts" if here else "y on your friends list accepts"
    return f"{_name(contact)} wants to be your friend — {how}"


class FriendsScreen(SessionScreen):
    CSS_PATH = "friends.tcss"
    BINDINGS = [
        Binding("a", "add", "Add friend", id="friends.add"),
        Binding("y", "accept", "Accept", id="friends.accept"),
        Binding("d", "remove", "Remove", id="friends.remove"),
        Binding("b", "block", "Block", id="friends.block"),
        Binding("x", "ignore_all", "Ignore all", id="friends.ignore_all"),
        Binding("p", "presence", "Presence", id="friends.presence"),
        Binding("ctrl+f", "search", "Search", id="friends.search", show=False),  # f1 lists it
        Binding("i", "app.inspect", "Inspector", id="friends.inspector"),
        Binding("v", "devices", "Devices", id="friends.devices"),
        Binding("g", "new_room", "New room", id="friends.new_room", show=False),  # f1 lists it
    ]
    typing_fade = TYPING_FADE

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.summaries: list[ContactSummary] = []
        """As the backend listed them; shown with requests first."""
        self.known: dict[str, ContactStatus] = {}
        """Each contact's status as last seen, to tell a new request from a repeat."""
        self._new_requests: dict[str, Contact] = {}  # arrived since the last toast
        self.typing = TypingPeers(self, lambda _peer: self._show(), fade=self.typing_fade)
        self._select: str | None = None
        self._reload_pending = False

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

    def reload_soon(self) -> None:
        """Reload after the events queued right now, once; under another screen, when
        this one is shown again. A flood of messages then costs a few queries, not
        one (over the whole history) per message."""
        if not self.is_current or self._reload_pending:
            return
        self._reload_pending = True

        def run() -> None:
            self._reload_pending = False
            self.reload()

        self.call_later(run)

    @work(group="contacts", exclusive=True)
    async def _reload(self) -> None:
        summaries = await self.backend.contacts()
        # Requests first, each group in the backend's order (most recent first).
        self.summaries = sorted(summaries, key=lambda s: not s.contact.is_request)
        self.known = {s.contact.user: s.contact.status for s in self.summaries}
        select, self._select = self._select, None
        self._show(select)

    def _show(self, select: str | None = None) -> None:
        backend = self.backend
        rows = [(s, backend.presence(s.contact.user)) for s in self.summaries]
        trust = {
            s.contact.user: backend.trust(s.contact.user) for s in self.summaries if not s.is_room
        }
        contacts = self.query_one(ContactList)
        contacts.show(
            rows, select=select, typing=self.typing, known=self.status.online, trust=trust
        )
        requests = sum(s.contact.is_request for s in self.summaries)
        contacts.border_title = "Friends" + (
            f" · {requests} request{'s' if requests > 1 else ''}" if requests else ""
        )
        self.query_one("#no-friends").display = not rows

    def summary(self, user: str | None) -> ContactSummary | None:
        return next((s for s in self.summaries if s.contact.user == user), None)

    # Events

    def on_chat_received_msg(self, msg: ChatReceivedMsg) -> None:
        message = msg.event.message
        if not message.outgoing:
            self.typing.stopped(message.peer)
        self.reload_soon()

    def on_message_state_changed_msg(self, _msg: MessageStateChangedMsg) -> None:
        self.reload_soon()

    def on_message_changed_msg(self, _msg: MessageChangedMsg) -> None:
        self.reload_soon()  # the preview of an edited or deleted last message

    def on_presence_changed_msg(self, msg: PresenceChangedMsg) -> None:
        if self.summary(msg.event.presence.user) is not None:
            self._show()

    def on_connection_changed_msg(self, msg: ConnectionChangedMsg) -> None:
        super().on_connection_changed_msg(msg)
        self._show()

    def on_trust_changed_msg(self, msg: TrustChangedMsg) -> None:
        if self.summary(msg.event.trust.user) is not None:
            self._show()  # the ✓ or "⚠ keys changed" beside them

    def on_peer_typing_msg(self, msg: PeerTypingMsg) -> None:
        if self.summary(msg.event.peer) is not None:
            self.typing.started(msg.event.peer)

    def on_contacts_changed_msg(self, msg: ContactsChangedMsg) -> None:
        user, contact = msg.event.user, msg.event.contact
        before = self.known.pop(user, None)
        if contact is not None:
            self.known[user] = contact.status
            self._announce(before, contact)
        self.reload()

    def _announce(self, before: ContactStatus | None, contact: Contact) -> None:
        """Toast what the backend did on its own, wherever the user is."""
        top = self.app.screen
        if before is contact.status or (
            isinstance(top, ConversationScreen) and top.peer == contact.user
        ):
            return  # nothing new, or that conversation says it itself
        if contact.is_request:
            # A flood of requests is one toast, not one each (see _toast_requests).
            self._new_requests[contact.user] = contact
            if len(self._new_requests) == 1:
                self.call_after_refresh(self._toast_requests, here=top is self)
        elif before is ContactStatus.REQUESTED and contact.status is ContactStatus.FRIEND:
            self.notify(f"{_name(contact)} accepted your friend request.", markup=False)

    def _toast_requests(self, *, here: bool) -> None:
        new, self._new_requests = list(self._new_requests.values()), {}
        if len(new) == 1:
            text = request_toast(new[0], here=here)
        else:
            names = ", ".join(c.user for c in new[:3]) + (", …" if len(new) > 3 else "")
            where = "" if here else " on your friends list"
            text = f"{len(new)} friend requests ({names}) — x{where} ignores them all"
        self.notify(text, title="Friend request", markup=False)

    # Actions

    @on(OptionList.OptionSelected, "#contacts")
    def open_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.open_conversation(event.option.id)

    def open_conversation(self, peer: str, at: ChatMessage | None = None) -> None:
        room = self.summary(peer)
        if room is not None and room.is_room:
            self.app.push_screen(RoomScreen(self.session, room, at=at))
        else:
            self.app.push_screen(ConversationScreen(self.session, peer, at=at))

    def action_search(self) -> None:
        def search(text: str) -> Awaitable[list[ChatMessage]]:
            return self.backend.search(text, limit=SEARCH_ALL_LIMIT)

        def chosen(hit: ChatMessage | None) -> None:
            if hit is not None:
                self.open_conversation(hit.peer, at=hit)

        self.app.push_screen(SearchAllScreen(search, self.session.clock), chosen)

    def action_add(self) -> None:
        self.app.push_screen(AddContactScreen(), self._added)

    def action_new_room(self) -> None:
        self.app.push_screen(NewRoomScreen(), self._room_wanted)

    async def _room_wanted(self, wanted: tuple[str, list[str]] | None) -> None:
        if wanted is None:
            return
        try:
            key = await self.backend.start_room(*wanted)
        except (SendError, ValueError) as exc:
            self.notify(str(exc), title="No room", severity="error", markup=False)
            return
        self.reload(select=key)
        room = next((s for s in await self.backend.contacts() if s.contact.user == key), None)
        if room is not None:
            self.app.push_screen(RoomScreen(self.session, room))

    async def _added(self, user: str | None) -> None:
        if user is not None and await self.add_contact(user) is not None:
            self.reload(select=user)

    async def action_accept(self) -> None:
        summary = self.summary(self.query_one(ContactList).highlighted_user)
        if summary is None:
            self.notify("Nobody is selected.", severity="warning")
            return
        contact = summary.contact
        if contact.status is ContactStatus.REQUESTED:
            self.notify(
                f"Nothing to accept: you asked {_name(contact)}; waiting for them.",
                markup=False,
            )
        elif not contact.is_request:
            self.notify(
                f"Nothing to accept: {_name(contact)} is already your friend.", markup=False
            )
        elif await self.add_contact(contact.user) is not None:
            self.reload(select=contact.user)

    def action_remove(self) -> None:
        summary = self.summary(self.query_one(ContactList).highlighted_user)
        if summary is None:
            self.notify("Nobody is selected.", severity="warning")
            return
        contact = summary.contact
        user, name = contact.user, _name(contact)

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            await self.backend.remove_contact(user)
            if contact.is_request:
                self.notify(f"Ignored {name}'s request.", markup=False)
            else:
                self.notify(f"Removed {name}; the conversation is kept.", markup=False)
            self.reload()

        if contact.is_request:
            question = (
                f"Ignore {name}'s request? Their messages stay in your history, and "
                "they show up here again if they write to you."
            )
        elif contact.status is ContactStatus.REQUESTED:
            question = f"Forget your request to {name}? The conversation history stays."
        else:
            question = f"Remove {name} from your friends? The conversation history stays."
        self.app.push_screen(ConfirmScreen(question), answered)

    def action_ignore_all(self) -> None:
        users = [s.contact.user for s in self.summaries if s.contact.is_request]
        if not users:
            self.notify("No friend requests to ignore.", markup=False)
            return
        question = (
            f"Ignore all {len(users)} friend request(s)? Their messages stay in your "
            "history; a new request from one of them shows up again."
        )
        self._dismiss(
            users, block=False, question=question, done=f"Ignored {len(users)} friend request(s)."
        )

    def action_block(self) -> None:
        summary = self.summary(self.query_one(ContactList).highlighted_user)
        if summary is None:
            self.notify("Nobody is selected.", severity="warning")
            return
        name = _name(summary.contact)
        question = (
            f"Block {name}? Nothing they send is taken any more, requests included, "
            "until you add them yourself. The history stays."
        )
        self._dismiss(
            [summary.contact.user], block=True, question=question, done=f"Blocked {name}."
        )

    def _dismiss(self, users: list[str], *, block: bool, question: str, done: str) -> None:
        async def answered(yes: bool | None) -> None:
            if yes:
                await self.backend.dismiss_requests(users, block=block)
                self.notify(done, markup=False)
                self.reload()

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_presence(self) -> None:
        self.app.push_screen(PresenceScreen(self.session))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "devices":  # only a user with another device has a list to see
            this = self.backend.this_device
            return any(d.device != this for d in self.backend.devices())
        return True

    def on_room_changed_msg(self, _msg: RoomChangedMsg) -> None:
        self.reload_soon()  # a room came, changed, or we left it

    def on_devices_changed_msg(self, _msg: DevicesChangedMsg) -> None:
        self.refresh_bindings()

    def action_devices(self) -> None:
        self.app.push_screen(DevicesScreen(self.backend, self.session.clock))
