"""The search line of a conversation: what to look for, and where among the hits the
view is (``2 of 14``). It holds the hits (newest first, as the history gives them);
the screen asks it for the next or previous one and jumps the log there."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Input

from mqchat.core.model import ChatMessage

__all__ = ["SEARCH_LIMIT", "SearchBar"]


class SearchBar(Input):
    """An :class:`Input` with the hits of the last search. Hidden until opened."""

    DEFAULT_CSS = """
    SearchBar {
        display: none;
        border: round $warning;
        border-subtitle-align: right;
    }
    SearchBar.-open {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Search this conversation — enter finds", id=id)
        self.hits: list[ChatMessage] = []
        self.index = 0
        self.searched = ""
        """The text the hits are for."""

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    def close(self) -> None:
        self.remove_class("-open")
        self.hits, self.index, self.searched = [], 0, ""
        self.border_subtitle = ""

    def show_hits(self, text: str, hits: Sequence[ChatMessage]) -> ChatMessage | None:
        """The hits for ``text``; returns the newest, to jump to (``None``: none)."""
        self.searched, self.hits, self.index = text, list(hits), 0
        self._tell()
        return self.hits[0] if self.hits else None

    def step(self, direction: int) -> ChatMessage | None:
        """The next older (1) or newer (-1) hit, or ``None`` past either end."""
        index = self.index + direction
        if not self.hits or not 0 <= index < len(self.hits):
            return None
        self.index = index
        self._tell()
        return self.hits[index]

    def _tell(self) -> None:
        if not self.hits:
            self.border_subtitle = "no messages found · esc closes"
            return
        more = "+" if len(self.hits) >= SEARCH_LIMIT else ""
        self.border_subtitle = (
            f"{self.index + 1} of {len(self.hits)}{more} · n older · N newer · esc closes"
        )


SEARCH_LIMIT = 500
"""Hits fetched per search: the newest ones (``500+`` says there are more)."""
