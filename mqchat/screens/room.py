"""A room's conversation (protocol v2): the conversation screen with the room's name,
its members and how many read your last message on top, instead of a peer's
presence, and whether what is sent is encrypted for every member (or for whom not,
and whose keys changed). Messages show their sender; what is sent goes to every member."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import Static

from mqchat.chat.backend import SendError
from mqchat.core.model import ChatMessage, ContactSummary
from mqchat.core.text import safe_name
from mqchat.screens.base import Session
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.messages import (
    ChatReceivedMsg,
    MessageStateChangedMsg,
    RoomChangedMsg,
    TrustChangedMsg,
)
from mqchat.screens.modals import ConfirmScreen
from mqchat.widgets.message_log import MessageLog
from mqchat.widgets.render import READ_STYLE
from mqchat.widgets.trust_text import room_trust, room_warning

__all__ = ["RoomScreen"]


class RoomScreen(ConversationScreen):
    BINDINGS = [
        # priority: the focused composer would otherwise take it.
        Binding("ctrl+w", "leave_room", "Leave room", id="room.leave", priority=True),
    ]
    one_to_one = False

    def __init__(
        self, session: Session, room: ContactSummary, *, at: ChatMessage | None = None
    ) -> None:
        super().__init__(session, room.contact.user, at=at)
        self.name_shown = room.contact.display_name or room.contact.user
        self.members = room.members or ()
        self.last_mine: ChatMessage | None = room.last_message
        self.read: tuple[int, int] | None = None
        """How many members read :attr:`last_mine`, of how many."""

    @property
    def peer_label(self) -> str:
        return self.name_shown

    @property
    def log_label(self) -> str:
        return max(self.members, key=len, default=self.name_shown)

    async def on_mount(self) -> None:
        await super().on_mount()
        recent = await self.backend.history(self.peer, limit=50)
        self.last_mine = next((m for m in reversed(recent) if m.outgoing), None)
        self.count_readers()

    def show_header(self) -> None:
        header = Text.assemble(("# ", "bold cyan"), (safe_name(self.name_shown), "bold"), "  ")
        header.append(", ".join(self.members), style="dim")
        if self.read is not None:
            read, of = self.read
            header.append("  · your last message: ", style="dim")
            header.append(f"read by {read} of {of}", style=READ_STYLE if read == of else "dim")
        self.query_one("#peer-header", Static).update(header)

    def others(self) -> list[str]:
        """The members but us: whom what we write here is sealed for."""
        return [m for m in self.members if m != self.backend.user]

    def show_trust(self) -> None:
        trusts = [self.backend.trust(member) for member in self.others()]
        self.query_one(MessageLog).border_title = room_trust(trusts)
        self.show_trust_warning(room_warning(trusts))

    def on_trust_changed_msg(self, msg: TrustChangedMsg) -> None:
        if msg.event.trust.user in self.others():
            self.show_trust()

    @work(group="read-by", exclusive=True)
    async def count_readers(self) -> None:
        if self.last_mine is not None:
            self.read = (await self.backend.read_by([self.last_mine.id])).get(self.last_mine.id)
        self.show_header()

    async def append(self, message: ChatMessage) -> None:
        await super().append(message)
        if message.outgoing:  # one we just sent: nobody has read it yet
            self.last_mine, self.read = message, None
            self.count_readers()

    async def on_chat_received_msg(self, msg: ChatReceivedMsg) -> None:
        await super().on_chat_received_msg(msg)
        message = msg.event.message
        if message.peer == self.peer and message.outgoing:
            self.last_mine, self.read = message, None
            self.count_readers()

    def on_message_state_changed_msg(self, msg: MessageStateChangedMsg) -> None:
        super().on_message_state_changed_msg(msg)
        if self.last_mine is not None and msg.event.message_id == self.last_mine.id:
            self.count_readers()

    def action_leave_room(self) -> None:
        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.backend.quit_room(self.peer)
            except SendError as exc:
                self.notify(str(exc), title="Not left", severity="error", markup=False)
                return
            self.notify(f"You left {self.name_shown}.", markup=False)
            self.action_back()

        question = f"Leave {self.name_shown}? Nothing more of it will reach you."
        self.app.push_screen(ConfirmScreen(question), answered)

    def on_room_changed_msg(self, msg: RoomChangedMsg) -> None:
        room = msg.event.room
        if room.key == self.peer:
            self.name_shown, self.members = room.name, room.members
            self.show_header()
            self.show_trust()
