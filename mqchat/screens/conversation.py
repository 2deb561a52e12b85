"""One conversation: the peer and their presence on top, the history in the middle
(older pages load at the top), and the line to type into at the bottom."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Static

from mqchat.backend import SendError
from mqchat.domain import ChatMessage, DeliveryState, InvalidUserName
from mqchat.screens.base import Session, SessionScreen
from mqchat.ui_messages import ChatReceivedMsg, MessageStateChangedMsg, PresenceChangedMsg
from mqchat.widgets.contact_list import contact_label
from mqchat.widgets.message_log import MessageLog, MessageRow
from mqchat.widgets.render import presence_text, safe

__all__ = ["ConversationScreen"]

MAX_SENDER_WIDTH = 12


class ConversationScreen(SessionScreen):
    CSS_PATH = "conversation.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="conversation.back"),
        # priority: the focused Input would otherwise swallow them.
        Binding("pageup", "older", "Older", id="conversation.older", priority=True),
        Binding("pagedown", "newer", "Newer", id="conversation.newer", show=False, priority=True),
    ]
    page_size = 50

    def __init__(self, session: Session, peer: str) -> None:
        super().__init__(session)
        self.peer = peer
        self.rows: dict[str, MessageRow] = {}
        self.early_states: dict[str, DeliveryState] = {}
        """States that arrived before their message was on screen."""
        self.oldest: ChatMessage | None = None
        self.exhausted = False
        self._loading = False
        self._sending = False
        self._opened = False
        self._suspended = False

    @property
    def peer_label(self) -> str:
        return self.peer

    def compose_body(self) -> Iterable[Widget]:
        yield Static(id="peer-header")
        yield MessageLog(id="messages")
        yield Input(placeholder=f"Message {self.peer} — enter sends", id="compose")

    async def on_mount(self) -> None:
        self.query_one("#compose", Input).focus()
        self.show_header()
        page = await self.backend.history(self.peer, limit=self.page_size)
        log = self.query_one(MessageLog)
        await log.mount_all(self._row(m) for m in page)
        self.oldest = page[0] if page else None
        if len(page) < self.page_size:
            await self._mark_beginning()
        log.anchor()
        await self.backend.mark_read(self.peer)
        self._opened = True
        self.call_after_refresh(self._fill_screen)

    async def _fill_screen(self) -> None:
        """Load older pages until the log can scroll (or there is nothing older), so
        that scrolling up is always how one reaches older messages."""
        if self.exhausted or self.query_one(MessageLog).max_scroll_y > 0:
            return
        await self.load_older()
        self.call_after_refresh(self._fill_screen)

    def show_header(self) -> None:
        presence = self.backend.presence(self.peer)
        header = contact_label(self.peer, presence.name if presence else None)
        header.append("  ")
        header.append_text(presence_text(presence, self.session.clock()))
        if presence is not None and presence.lost:
            header.append(" (connection lost)", style="dim")
        self.query_one("#peer-header", Static).update(header)

    def _row(self, message: ChatMessage) -> MessageRow:
        width = min(MAX_SENDER_WIDTH, max(3, len(self.peer_label)))
        row = MessageRow(message, self.peer_label, width)
        self.rows[message.id] = row
        if message.id in self.early_states:
            row.set_state(self.early_states.pop(message.id))
        return row

    async def _mark_beginning(self) -> None:
        if self.exhausted:
            return
        self.exhausted = True
        note = Static(
            Text.assemble("— the beginning of your conversation with ", safe(self.peer), " —"),
            classes="beginning",
        )
        await self.query_one(MessageLog).mount(note, before=0)

    async def append(self, message: ChatMessage) -> None:
        if message.id in self.rows:
            return
        log = self.query_one(MessageLog)
        await log.mount(self._row(message))
        if self.oldest is None:
            self.oldest = message

    # Sending

    @on(Input.Submitted, "#compose")
    async def send(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip() or self._sending:
            return
        self._sending = True
        try:
            message = await self.backend.send_text(self.peer, text)
        except (SendError, InvalidUserName) as exc:
            # The text stays in the input so nothing typed is lost.
            self.notify(str(exc), title="Not sent", severity="error", markup=False)
            return
        finally:
            self._sending = False
        event.input.clear()
        await self.append(message)
        self.query_one(MessageLog).scroll_end(animate=False)

    # Events

    async def on_chat_received_msg(self, msg: ChatReceivedMsg) -> None:
        message = msg.event.message
        if message.peer != self.peer:
            return
        await self.append(message)
        if self.is_current and not message.outgoing:
            await self.backend.mark_read(self.peer)

    def on_message_state_changed_msg(self, msg: MessageStateChangedMsg) -> None:
        event = msg.event
        if event.peer != self.peer:
            return
        row = self.rows.get(event.message_id)
        if row is None:
            self.early_states[event.message_id] = event.state
        else:
            row.set_state(event.state)

    def on_presence_changed_msg(self, msg: PresenceChangedMsg) -> None:
        if msg.event.presence.user == self.peer:
            self.show_header()

    def on_screen_suspend(self) -> None:
        self._suspended = True

    @on(events.ScreenResume)
    async def resumed(self) -> None:
        self.show_header()
        if self._suspended:  # back from another screen: what arrived meanwhile is read now
            self._suspended = False
            await self.backend.mark_read(self.peer)

    # Older pages

    @on(MessageLog.ReachedTop)
    async def reached_top(self) -> None:
        if self._opened:
            await self.load_older()

    async def action_older(self) -> None:
        log = self.query_one(MessageLog)
        if log.scroll_y > 0:
            log.scroll_page_up()
        else:
            await self.load_older()

    def action_newer(self) -> None:
        self.query_one(MessageLog).scroll_page_down()

    async def load_older(self) -> None:
        if self.exhausted or self._loading or self.oldest is None:
            return
        self._loading = True
        try:
            page = await self.backend.history(self.peer, before=self.oldest, limit=self.page_size)
            page = [m for m in page if m.id not in self.rows]
            log = self.query_one(MessageLog)
            first = log.children[0] if log.children else None
            if page:
                await log.mount_all([self._row(m) for m in page], before=0)
                self.oldest = page[0]
            if len(page) < self.page_size:
                await self._mark_beginning()
            if first is not None:
                # Keep what the user was reading where it was, once the rows are laid out.
                log.call_after_refresh(log.scroll_to_widget, first, top=True, animate=False)
        finally:
            self._loading = False

    def action_back(self) -> None:
        self.dismiss()
