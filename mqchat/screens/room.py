"""A room's conversation (protocol v2): the conversation screen with the room's name
and members on top instead of a peer's presence. Messages show their sender as in
any conversation; what is sent goes to every member."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mqchat.core.model import ChatMessage, ContactSummary
from mqchat.core.text import safe_name
from mqchat.screens.base import Session
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.messages import RoomChangedMsg

__all__ = ["RoomScreen"]


class RoomScreen(ConversationScreen):
    def __init__(
        self, session: Session, room: ContactSummary, *, at: ChatMessage | None = None
    ) -> None:
        super().__init__(session, room.contact.user, at=at)
        self.name_shown = room.contact.display_name or room.contact.user
        self.members = room.members or ()

    @property
    def peer_label(self) -> str:
        return self.name_shown

    def show_header(self) -> None:
        header = Text.assemble(("# ", "bold cyan"), (safe_name(self.name_shown), "bold"), "  ")
        header.append(", ".join(self.members), style="dim")
        header.append(f"  · {len(self.members)} members", style="dim")
        self.query_one("#peer-header", Static).update(header)

    def on_room_changed_msg(self, msg: RoomChangedMsg) -> None:
        room = msg.event.room
        if room.key == self.peer:
            self.name_shown, self.members = room.name, room.members
            self.show_header()
