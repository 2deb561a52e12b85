"""Editing and deleting one's own messages in a conversation: ctrl+up picks our
newest message (highlighted; up and down move among ours, esc lets go), ``e`` (or
enter) loads its text into the box in "editing" mode (enter saves, esc cancels and
gives the draft back), ``d`` (or delete) asks first, then deletes it for both
sides. The base of :class:`~mqchat.screens.conversation.ConversationScreen`."""

from __future__ import annotations

from textual.binding import Binding

from mqchat.chat.backend import SendError
from mqchat.core.model import ChatMessage
from mqchat.core.names import InvalidUserName
from mqchat.screens.base import SessionScreen
from mqchat.screens.messages import MessageChangedMsg
from mqchat.screens.modals import ConfirmScreen
from mqchat.widgets.composer import Composer, typeable
from mqchat.widgets.message_log import MessageLog
from mqchat.widgets.render import MAX_NAME_CELLS

__all__ = ["OWN_MESSAGE_ACTIONS", "OWN_MESSAGE_BINDINGS", "OwnMessagesScreen"]

OWN_MESSAGE_BINDINGS = [
    # priority: the focused composer would otherwise take ctrl+up. Not in the footer,
    # which is full at 100 columns (f1 lists it); e and d are, once one is picked.
    Binding(
        "ctrl+up",
        "pick(-1)",
        "Edit or delete yours",
        id="conversation.pick",
        show=False,
        priority=True,
        tooltip="Pick your newest message, to edit or delete it",
    ),
    Binding(
        "up",
        "step(-1)",
        "Older of yours",
        id="conversation.pick_older",
        show=False,
        tooltip="While one of yours is picked: your message before it",
    ),
    Binding(
        "down",
        "step(1)",
        "Newer of yours",
        id="conversation.pick_newer",
        show=False,
        tooltip="While one of yours is picked: your message after it (past the last: done)",
    ),
    Binding("e,enter", "edit", "Edit", id="conversation.edit", tooltip="Edit the picked message"),
    Binding(
        "d,delete",
        "delete",
        "Delete",
        id="conversation.delete",
        tooltip="Delete the picked message, for both sides (asks first)",
    ),
]
OWN_MESSAGE_ACTIONS = {"pick", "step", "edit", "delete"}
PICKING = "↑↓ your messages · e edit · d delete · esc done"
EDITING = "editing your message · enter saves · esc cancels"


class OwnMessagesScreen(SessionScreen):
    """What a conversation does with our own messages. ``picked``: the one
    highlighted; ``editing``: the one whose text is in the box."""

    peer: str
    picked: ChatMessage | None = None
    editing: ChatMessage | None = None
    _draft: str = ""
    """What was in the box before an edit took it; given back after."""

    def check_own(self, action: str) -> bool:
        """ctrl+up whenever we are not editing; the others only while one of ours
        is picked (else up, down, e and d are someone else's keys)."""
        if action == "pick":
            return self.editing is None
        return self.picked is not None and self.editing is None

    async def action_step(self, direction: int) -> None:
        await self.action_pick(direction)

    async def action_pick(self, direction: int) -> None:
        log = self.query_one(MessageLog)
        if self.picked is None and not log.window.at_newest:
            await log.jump_newest()
        found = log.window.own_next(None if self.picked is None else self.picked.id, direction)
        if found is not None:
            self._pick(found)
        elif self.picked is None:
            self.notify("Nothing of yours here to edit or delete.", timeout=3)
        elif direction > 0:
            self.let_go()  # down past our newest: back to writing
        else:
            self.notify("No older message of yours here.", timeout=2)

    def _pick(self, message: ChatMessage) -> None:
        self.picked = message
        log = self.query_one(MessageLog)
        log.selected = message.id
        log.border_subtitle = PICKING
        start = log.window.start_of(message.id)
        if start is not None:
            end = start + log.window.height_of(message.id)
            height = log.scrollable_content_region.height
            if start < log.scroll_y or end > log.scroll_y + height:
                log.following = False
                log.scroll_to(y=max(0, end - height), animate=False, immediate=True)
        log.refresh()
        self.set_focus(None)  # up, down, e and d are ours now, not the box's
        self.refresh_bindings()

    def let_go(self) -> bool:
        """Leave editing (the draft comes back) or picking; whether there was any."""
        if self.picked is None and self.editing is None:
            return False
        composer = self.query_one("#compose", Composer)
        if self.editing is not None:
            self.editing = None
            composer.replace_all(self._draft)
            composer.remove_class("-editing")
            composer.border_title = None
        self.picked = None
        log = self.query_one(MessageLog)
        log.selected = None
        log.border_subtitle = None
        log.refresh()
        composer.focus()
        self.refresh_bindings()
        return True

    def action_edit(self) -> None:
        if self.picked is None:
            return
        self.editing = self.picked
        composer = self.query_one("#compose", Composer)
        self._draft = composer.text
        composer.replace_all(typeable(self.picked.body))
        composer.add_class("-editing")
        composer.border_title = EDITING
        self.query_one(MessageLog).border_subtitle = None
        composer.focus()
        self.refresh_bindings()

    def save_edit(self, text: str) -> None:
        """The box was submitted while editing: ``text`` replaces the message."""
        message = self.editing
        if message is None:
            return
        if text == typeable(message.body):
            self.let_go()  # nothing changed: nothing to tell anyone
            return
        self.run_worker(self._save(message, text), group="edit")

    async def _save(self, message: ChatMessage, text: str) -> None:
        try:
            await self.backend.edit_text(self.peer, message.id, text)
        except (SendError, InvalidUserName) as exc:
            self.query_one("#compose", Composer).replace_all(text)  # still editing
            self.notify(str(exc), title="Not edited", severity="error", markup=False)
            return
        if self.editing is not None and self.editing.id == message.id:
            self.let_go()

    def action_delete(self) -> None:
        message = self.picked
        if message is None:
            return
        who = self.peer[:MAX_NAME_CELLS]
        question = f"Delete this message of yours for you and {who}? It cannot be undone."

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._delete(message), group="edit")
            else:  # still picked: the keys stay ours once the screen is back
                self.call_after_refresh(self._keep_picking)

        self.app.push_screen(ConfirmScreen(question), answered)

    def _keep_picking(self) -> None:
        if self.picked is not None and self.editing is None:
            self.set_focus(None)

    async def _delete(self, message: ChatMessage) -> None:
        try:
            await self.backend.delete_text(self.peer, message.id)
        except (SendError, InvalidUserName) as exc:
            self.notify(str(exc), title="Not deleted", severity="error", markup=False)
            return
        if self.picked is not None and self.picked.id == message.id:
            self.let_go()

    def on_message_changed_msg(self, msg: MessageChangedMsg) -> None:
        message = msg.event.message
        if message.peer != self.peer:
            return
        self.query_one(MessageLog).update(message)
        if message.deleted and self.editing is not None and self.editing.id == message.id:
            self.let_go()
            self.notify("The message was deleted meanwhile.", title="Not edited", timeout=4)
        elif self.picked is not None and self.picked.id == message.id:
            self.picked = message
