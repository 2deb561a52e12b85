"""ctrl+f on the friends list: search every conversation. The hits are listed newest
first (who, when, the line of the message); enter opens that conversation at the
hit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mqchat.core.model import ChatMessage
from mqchat.core.text import preview
from mqchat.widgets.render import safe, short_when

__all__ = ["SEARCH_ALL_LIMIT", "SearchAllScreen", "hit_row"]

SEARCH_ALL_LIMIT = 200
"""Hits listed, the newest ones."""

Search = Callable[[str], Awaitable[list[ChatMessage]]]


def hit_row(hit: ChatMessage, now: datetime) -> Text:
    """``bob · 13:02 · you: the words of the message``, literal."""
    row = Text.assemble(safe(hit.peer, "bold"), " · ", (short_when(hit.ts, now), "dim"), " · ")
    if hit.outgoing:
        row.append("you: ", style="dim")
    row.append_text(safe(preview(hit.body)))
    return row


class SearchAllScreen(ModalScreen[ChatMessage | None]):
    """Dismisses with the hit chosen, or ``None``."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="search_all.cancel")]

    def __init__(self, search: Search, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.search = search
        self.clock = clock
        self.hits: list[ChatMessage] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search-all") as dialog:
            dialog.border_title = "Search every conversation"
            yield Input(placeholder="words to find — enter searches", id="search-all")
            yield OptionList(id="search-hits")
            yield Static(
                Text("enter searches, then ↑ ↓ and enter opens · esc closes", style="dim"),
                id="search-all-note",
                classes="dialog-error",
            )

    def on_mount(self) -> None:
        self.query_one("#search-hits", OptionList).display = False
        self.query_one("#search-all", Input).focus()

    @on(Input.Submitted, "#search-all")
    async def find(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        self.hits = await self.search(text)
        hits = self.query_one("#search-hits", OptionList)
        now = self.clock()
        hits.set_options(Option(hit_row(h, now), id=str(i)) for i, h in enumerate(self.hits))
        hits.display = bool(self.hits)
        many = "+" if len(self.hits) >= SEARCH_ALL_LIMIT else ""
        note = (
            f"{len(self.hits)}{many} found · ↑ ↓ and enter opens · esc closes"
            if self.hits
            else "no messages found · esc closes"
        )
        self.query_one("#search-all-note", Static).update(Text(note, style="dim"))
        if self.hits:
            hits.highlighted = 0
            hits.focus()

    @on(OptionList.OptionSelected, "#search-hits")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)
