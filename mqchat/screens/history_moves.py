"""Moving through a conversation's history: a page at a time, to the oldest or the
newest message (home and end only while nothing is typed, so that they still move
the cursor in a draft), and searching it (``/`` or ctrl+f, then n and N step
through the hits). The base of
:class:`~mqchat.screens.conversation.ConversationScreen`, beside its own messages'
editing (:class:`~mqchat.screens.own_messages.OwnMessagesScreen`)."""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.widgets import Input

from mqchat.screens.own_messages import OwnMessagesScreen
from mqchat.widgets.composer import Composer
from mqchat.widgets.message_log import MessageLog
from mqchat.widgets.search_bar import SEARCH_LIMIT, SearchBar

__all__ = ["HistoryMovesScreen"]


class HistoryMovesScreen(OwnMessagesScreen):
    """The moves; the keys that run them are the conversation's bindings."""

    # Moving through the history

    async def action_page(self, direction: int) -> None:
        await self.query_one(MessageLog).page(direction)

    async def action_oldest(self, unless_drafting: bool = False) -> None:
        if unless_drafting and self._drafting():
            raise SkipAction()
        await self.query_one(MessageLog).jump_oldest()

    async def action_newest(self, unless_drafting: bool = False) -> None:
        if unless_drafting and self._drafting():
            raise SkipAction()
        await self.query_one(MessageLog).jump_newest()

    def _drafting(self) -> bool:
        """Something is typed in the composer: home and end belong to it then."""
        return bool(self.query_one("#compose", Composer).text)

    # Searching the conversation

    def action_search(self, unless_drafting: bool = False) -> None:
        bar = self.query_one(SearchBar)
        composer = self.query_one("#compose", Composer)
        if unless_drafting and ((composer.has_focus and composer.text) or bar.has_focus):
            raise SkipAction()  # a / typed into the message or the search
        bar.open()

    @on(Input.Submitted, "#search")
    async def find(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        bar = self.query_one(SearchBar)
        hits = await self.backend.search(text, peer=self.peer, limit=SEARCH_LIMIT)
        first = bar.show_hits(text, hits)
        self.refresh_bindings()
        if first is not None:
            await self.query_one(MessageLog).jump_to(first)
            self.set_focus(None)  # n and N step through the hits; / or esc go back

    async def action_hit(self, direction: int) -> None:
        if self.focused is not None and isinstance(self.focused, Input | Composer):
            raise SkipAction()  # typed
        hit = self.query_one(SearchBar).step(direction)
        if hit is None:
            self.notify("no more hits that way", timeout=2)
            return
        await self.query_one(MessageLog).jump_to(hit)
