"""The "N new messages ↓" count of a conversation log: incoming messages that
arrived below the screen, forgotten as they come into view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from mqchat.core.model import ChatMessage
from mqchat.widgets.log_window import order_key

__all__ = ["MAX_UNSEEN", "NewBelow"]

MAX_UNSEEN = 10_000
"""New messages remembered, at most (a flood while scrolled up must not grow
memory; past it, those counted are forgotten only once all are seen)."""


class NewBelow:
    """How many new messages wait below the screen, and the note that says so."""

    def __init__(self) -> None:
        self._keys: list[tuple[datetime, str]] = []  # conversation order, oldest first
        self._overflow = 0

    def __len__(self) -> int:
        return len(self._keys) + self._overflow

    def add(self, messages: Iterable[ChatMessage]) -> None:
        for message in messages:
            if len(self._keys) < MAX_UNSEEN:
                self._keys.append(order_key(message))
            else:
                self._overflow += 1

    def seen_up_to(self, message: ChatMessage) -> bool:
        """``message`` and all before it were on screen; whether the count changed."""
        if not self._keys:
            return False
        before = len(self)
        newest = order_key(message)
        self._keys = [key for key in self._keys if key > newest]
        if not self._keys:
            self._overflow = 0
        return len(self) != before

    def note(self, width: int) -> Text:
        """`` 3 new messages ↓ ``, centred in ``width`` cells."""
        count = len(self)
        text = Text(f" {count:,} new message{'s' if count != 1 else ''} ↓ ", end="")
        text.truncate(width, overflow="ellipsis")
        text.align("center", width)
        return text

    def strip(self, width: int, console: Console, style: Style) -> Strip:
        """The note as the log's bottom line, drawn in ``style``."""
        return Strip(self.note(width).render(console), width).apply_style(style)

    def clear(self) -> None:
        self._keys, self._overflow = [], 0
