"""One conversation: the peer, their presence and whether they are typing on top
(with a banner when it is not encrypted or their keys changed, where ctrl+k shows
the safety number; and one while they are not a friend yet), the history in the
middle with "end-to-end encrypted" and "verified" on its top border (a virtualised
:class:`~mqchat.widgets.message_log.MessageLog`, which fetches its own pages), and
the box to write in at the bottom (see :mod:`mqchat.widgets.composer`). Messages
become read when they have been on screen, not when the conversation opens."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static, TextArea
from textual.worker import Worker

from mqchat.chat.backend import SendError
from mqchat.core.model import ChatMessage, Contact, ContactStatus, DeliveryState
from mqchat.core.names import InvalidUserName
from mqchat.screens.base import TYPING_FADE, Session, TypingPeers
from mqchat.screens.history_moves import HistoryMovesScreen
from mqchat.screens.messages import (
    ChatReceivedMsg,
    ConnectionChangedMsg,
    ContactsChangedMsg,
    MessageStateChangedMsg,
    PeerTypingMsg,
    PresenceChangedMsg,
    TrustChangedMsg,
)
from mqchat.screens.own_messages import OWN_MESSAGE_ACTIONS, OWN_MESSAGE_BINDINGS
from mqchat.screens.safety_number import SafetyNumberScreen
from mqchat.widgets.composer import RECALL_DEPTH, Composer, merged
from mqchat.widgets.contact_list import contact_label
from mqchat.widgets.log_window import order_key
from mqchat.widgets.message_log import MessageLog
from mqchat.widgets.render import TYPING_STYLE, presence_text
from mqchat.widgets.search_bar import SearchBar
from mqchat.widgets.trust_text import TrustWarning, trust_status, trust_warning

__all__ = ["ConversationScreen"]

log = logging.getLogger(__name__)


class ConversationScreen(HistoryMovesScreen):
    CSS_PATH = "conversation.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="conversation.back"),
        # priority: the focused composer would otherwise swallow them.
        Binding("ctrl+y", "accept", "Accept", id="conversation.accept", priority=True),
        Binding("pageup", "page(-1)", "Older", id="conversation.older", priority=True),
        Binding("pagedown", "page(1)", "Newer", id="conversation.newer", show=False, priority=True),
        # The composer has the focus: ctrl+home/ctrl+end always jump; home/end only
        # while it is empty, so that they still move the cursor in a draft.
        Binding(
            "ctrl+home", "oldest", "Oldest", id="conversation.oldest", show=False, priority=True
        ),
        Binding(
            "ctrl+end", "newest", "Newest", id="conversation.newest", show=False, priority=True
        ),
        Binding("home", "oldest(1)", "Oldest", id="conversation.home", show=False, priority=True),
        Binding("end", "newest(1)", "Newest", id="conversation.end", show=False, priority=True),
        # Search: / in an empty box (else it is typed), ctrl+f always; then n/N.
        Binding("slash", "search(1)", "Search", id="conversation.search", priority=True),
        Binding("ctrl+f", "search", "Search", id="conversation.find", show=False, priority=True),
        Binding("n", "hit(1)", "Older hit", id="conversation.next_hit", show=False),
        Binding("N", "hit(-1)", "Newer hit", id="conversation.previous_hit", show=False),
        # i would be typed into the message: ctrl+t ("traffic") opens the inspector here.
        Binding("ctrl+t", "app.inspect", "Inspector", id="conversation.inspector", priority=True),
        # Not in the (full) footer: f1 lists it, and the warning of changed keys names it.
        Binding(
            "ctrl+k",
            "safety",
            "Safety number",
            id="conversation.safety",
            show=False,
            priority=True,
            tooltip="Safety number: compare it with the peer's, mark their keys verified",
        ),
        *OWN_MESSAGE_BINDINGS,
    ]
    typing_fade = TYPING_FADE
    one_to_one = True
    """A conversation with one peer, who has one safety number (not a room)."""

    def __init__(self, session: Session, peer: str, *, at: ChatMessage | None = None) -> None:
        super().__init__(session)
        self.peer = peer
        self.at = at
        """A message to open at (a search hit), highlighted, instead of the end."""
        self.read_up_to: ChatMessage | None = None
        """The newest message from the peer we said was read."""
        self._outbox: list[str] = []
        """Texts out of the box, in the order they are sent; the first is in flight."""
        self._opened = False
        self._suspended = False
        self._arrived: list[ChatMessage] = []
        self.contact: Contact | None = None
        """The peer as a contact (``None``: not one), kept current by events."""
        self.typing = TypingPeers(self, lambda _peer: self.show_header(), fade=self.typing_fade)
        self._typing_worker: Worker[None] | None = None

    @property
    def peer_label(self) -> str:
        return self.peer

    @property
    def log_label(self) -> str:
        """Who the log names beside the peer's messages (its width sets the column)."""
        return self.peer_label

    @property
    def is_request(self) -> bool:
        """The peer asked us (or wrote first) and is not accepted yet."""
        return self.contact is not None and self.contact.is_request

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="peer-header")
        yield Static(id="request-banner")
        yield Static(id="trust-banner")
        yield SearchBar(id="search")
        yield MessageLog(id="messages")
        yield Composer(
            self.session.drafts.get(self.peer, ""),
            placeholder=f"Message {escape(self.peer_label)} — enter sends",
            id="compose",
        )

    async def on_mount(self) -> None:
        self.query_one("#compose", Composer).focus()
        self.show_contact(await self.backend.contact(self.peer))
        self.show_trust()
        log = self.query_one(MessageLog)
        await log.open(self.backend, self.peer, self.log_label, self.session.clock)
        if self.at is not None:
            self.call_after_refresh(log.jump_to, self.at)  # once the log has its size
        self._opened = True

    def show_contact(self, contact: Contact | None) -> None:
        """The peer's contact changed: header, banner and the accept key follow."""
        self.contact = contact
        self.show_header()
        banner = self.query_one("#request-banner", Static)
        banner.display = self.is_request
        if self.is_request:
            banner.update(
                Text.assemble(
                    contact_label(self.peer, contact.display_name if contact else None),
                    " is not in your friends yet — ",
                    (self.key_of("accept", "ctrl+y"), "bold"),
                    " accepts, ",
                    (self.key_of("back", "escape"), "bold"),
                    " goes back",
                )
            )
        self.refresh_bindings()

    def show_header(self) -> None:
        presence = self.backend.presence(self.peer)
        name = (self.contact.display_name if self.contact else None) or (
            presence.name if presence else None
        )
        friend = self.contact is not None and self.contact.status is ContactStatus.FRIEND
        header = contact_label(self.peer, name, friend=friend)
        header.append("  ")
        known = self.status.online
        header.append_text(presence_text(presence, self.session.clock(), known=known))
        if known and presence is not None and presence.lost:
            header.append(" (connection lost)", style="dim")
        if self.peer in self.typing:
            header.append(" · ")
            header.append("typing…", style=TYPING_STYLE)
        if self.contact is not None and self.contact.status is ContactStatus.REQUESTED:
            header.append(" · request pending", style="dim")
        self.query_one("#peer-header", Static).update(header)

    def show_trust(self) -> None:
        """Encrypted and verified on the log's top border; a banner under the header
        when the peer's keys changed (red) or they have none (yellow)."""
        trust = self.backend.trust(self.peer)
        self.query_one(MessageLog).border_title = trust_status(trust) or None
        self.show_trust_warning(trust_warning(self.peer, trust, self.key_of("safety", "ctrl+k")))

    def show_trust_warning(self, warning: TrustWarning | None) -> None:
        banner = self.query_one("#trust-banner", Static)
        banner.display = warning is not None
        banner.set_class(warning is not None and warning.level == "changed", "-changed")
        if warning is not None:
            banner.update(warning.text)

    def on_trust_changed_msg(self, msg: TrustChangedMsg) -> None:
        if msg.event.trust.user == self.peer:
            self.show_trust()

    def action_safety(self) -> None:
        self.app.push_screen(SafetyNumberScreen(self.backend, self.peer))

    async def append(self, message: ChatMessage) -> None:
        await self.query_one(MessageLog).add([message])

    # Sending

    @on(Composer.Submitted, "#compose")
    def send(self, event: Composer.Submitted) -> None:
        # The text has left the box already: what is typed from now on is the next
        # message. Sends go out one at a time, in order, on the app (leaving the
        # conversation does not cancel them). While editing, it is the new text.
        if self.editing is not None:
            return self.save_edit(event.text)
        self._outbox.append(event.text)
        if len(self._outbox) == 1:
            self.app.run_worker(self._send_outbox(), group="send")

    async def _send_outbox(self) -> None:
        while self._outbox:
            try:
                message = await self.backend.send_text(self.peer, self._outbox[0])
            except (SendError, InvalidUserName) as exc:
                unsent, self._outbox = self._outbox, []
                self._put_back(unsent)
                self.app.notify(str(exc), title="Not sent", severity="error", markup=False)
                return
            self._outbox.pop(0)
            shown = self._shown_on()
            if shown is not None:
                await shown.append(message)
                shown.query_one(MessageLog).scroll_end(animate=False)

    def _shown_on(self) -> ConversationScreen | None:
        """The conversation with our peer on screen now: this one, or the one opened
        again after leaving this one while a send was on its way."""
        if self.is_attached:
            return self
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, ConversationScreen) and screen.peer == self.peer:
                return screen
        return None

    def _put_back(self, unsent: list[str]) -> None:
        """Nothing typed is lost: unsent texts go back in front of the draft."""
        shown = self._shown_on()
        if shown is not None:
            shown.query_one("#compose", Composer).put_back(*unsent)
        else:
            self.session.drafts[self.peer] = merged(*unsent, self.session.drafts.get(self.peer, ""))

    @on(TextArea.Changed, "#compose")
    def typed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        if self.editing is not None:
            return  # an edit: neither the draft nor worth a typing notice
        if text.strip():
            self.session.drafts[self.peer] = text
        else:
            self.session.drafts.pop(self.peer, None)
        # Never wait for the network here; one notice in flight at a time is plenty
        # (the backend throttles them anyway).
        if not text.strip() or self._typing_worker is not None:
            return
        self._typing_worker = self.run_worker(self._tell_typing(), group="typing")

    @on(Composer.RecallWanted, "#compose")
    async def recall(self, event: Composer.RecallWanted) -> None:
        """Up in an empty box: the last message we sent here, to edit and send again."""
        recent = await self.backend.history(self.peer, limit=RECALL_DEPTH)
        last = next((m.body for m in reversed(recent) if m.outgoing and not m.deleted), None)
        if last is not None:
            event.composer.recall(last)

    async def _tell_typing(self) -> None:
        try:
            await self.backend.send_typing(self.peer)
        except Exception:  # a typing notice is best effort: never bother the user
            log.debug("send_typing failed", exc_info=True)
        finally:
            self._typing_worker = None

    # Accepting a request

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept":
            return self.is_request
        if action == "safety":
            return self.one_to_one
        if action == "hit":
            return bool(self.query_one(SearchBar).hits) or None
        return self.check_own(action) if action in OWN_MESSAGE_ACTIONS else True

    async def action_accept(self) -> None:
        if not self.is_request:
            return
        contact = await self.add_contact(self.peer)
        if contact is not None:
            self.show_contact(contact)

    # Events

    async def on_chat_received_msg(self, msg: ChatReceivedMsg) -> None:
        message = msg.event.message
        if message.peer != self.peer:
            return
        if not message.outgoing:
            self.typing.stopped(self.peer)
        # Shown in batches: during a flood every message queued behind this one joins
        # it, so the log is laid out and marked read once per batch, not per message.
        self._arrived.append(message)
        if len(self._arrived) == 1:
            self.call_later(self._show_arrived)

    async def _show_arrived(self) -> None:
        batch, self._arrived = self._arrived, []
        await self.query_one(MessageLog).add(dict.fromkeys(batch))

    # Receipts: only for what was on screen

    @on(MessageLog.Seen)
    async def seen(self, event: MessageLog.Seen) -> None:
        await self._mark_read(event.message)

    async def _mark_read(self, message: ChatMessage | None) -> None:
        """Tell the backend ``message`` and the peer's older ones were read: only
        while this screen is the one on top (not ``is_current``, which Textual also
        grants the screen under the top one), and only forward."""
        if message is None or self.app.screen is not self:
            return
        if self.read_up_to is not None and order_key(message) <= order_key(self.read_up_to):
            return
        self.read_up_to = message
        await self.backend.mark_read(self.peer, up_to=message)
        self.query_one(MessageLog).mark_read(message)

    def on_message_state_changed_msg(self, msg: MessageStateChangedMsg) -> None:
        event = msg.event
        if event.peer != self.peer:
            return
        self.query_one(MessageLog).set_state(event.message_id, event.state)
        if event.state is DeliveryState.FAILED and event.reason:
            self.notify(event.reason, title="Not sent", severity="error", markup=False)

    def on_connection_changed_msg(self, msg: ConnectionChangedMsg) -> None:
        super().on_connection_changed_msg(msg)
        self.show_header()

    def on_presence_changed_msg(self, msg: PresenceChangedMsg) -> None:
        if msg.event.presence.user == self.peer:
            self.show_header()

    def on_peer_typing_msg(self, msg: PeerTypingMsg) -> None:
        if msg.event.peer == self.peer:
            self.typing.started(self.peer)

    def on_contacts_changed_msg(self, msg: ContactsChangedMsg) -> None:
        if msg.event.user != self.peer:
            return
        before, after = self.contact, msg.event.contact
        self.show_contact(after)
        # The friends list announces changes, except for the conversation on top.
        if (
            self.app.screen is self
            and before is not None
            and before.status is ContactStatus.REQUESTED
            and after is not None
            and after.status is ContactStatus.FRIEND
        ):
            self.notify(f"{self.peer} accepted your friend request.", markup=False)

    def on_screen_suspend(self) -> None:
        self._suspended = True

    @on(events.ScreenResume)
    async def resumed(self) -> None:
        self.show_header()
        self.show_trust()
        if self._suspended:  # back from another screen: what is on screen is read now
            self._suspended = False
            await self._mark_read(self.query_one(MessageLog).newest_unread_on_screen())

    def action_back(self) -> None:
        if self.let_go():  # escape ends editing or picking first
            return
        bar = self.query_one(SearchBar)
        if bar.is_open:  # escape closes the search first
            bar.close()
            self.query_one(MessageLog).clear_hit()
            self.query_one("#compose", Composer).focus()
            return
        self.dismiss()
