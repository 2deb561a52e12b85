"""The friends list: two lines per contact (presence, name, unread count; last
message and its time), rebuilt when the data or the width changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mqchat.domain import ContactSummary, Presence
from mqchat.widgets.render import presence_words, safe, short_when

__all__ = ["ContactList", "contact_label", "contact_row"]

NAME_WIDTH = 28
PRESENCE_WIDTH = 26


def contact_label(user: str, name: str | None) -> Text:
    """``Alice (alice)`` when the display name says more than the user name."""
    text = safe(name or user, "bold")
    if name and name != user:
        text.append_text(safe(f" ({user})", "dim"))
    return text


def _fit(left: Text, right: Text, width: int) -> Text:
    """``left`` cut to leave room, then ``right`` flush with the right edge."""
    room = max(1, width - right.cell_len - (1 if right.cell_len else 0))
    left = left.copy()
    left.truncate(room, overflow="ellipsis")
    left.end = ""
    gap = max(0, width - left.cell_len - right.cell_len)
    return Text.assemble(left, " " * gap, right, end="")


def contact_row(
    summary: ContactSummary, presence: Presence | None, now: datetime, width: int
) -> Text:
    """The two lines of one contact, ``width`` cells wide."""
    contact = summary.contact
    marker, words, style = presence_words(presence, now)
    name = contact.display_name or (presence.name if presence else None)

    head = Text.assemble((f"{marker} ", style), end="")
    label = contact_label(contact.user, name)
    label.truncate(NAME_WIDTH - 1, overflow="ellipsis")
    label.pad_right(NAME_WIDTH - label.cell_len)
    head.append_text(label)
    head.append(words[:PRESENCE_WIDTH], style=style)
    unread = Text(f"{summary.unread} new", style="bold cyan") if summary.unread else Text()
    first = _fit(head, unread, width)

    last = summary.last_message
    if last is None:
        second = Text("  no messages yet", style="dim", end="")
    else:
        preview = Text("  ", end="")
        if last.outgoing:
            preview.append("you: ", style="dim")
        body = last.body.strip().splitlines()[0] if last.body.strip() else ""
        preview.append_text(safe(f'"{body}"', "italic"))
        second = _fit(preview, Text(short_when(last.ts, now), style="dim"), width)
    return Text("\n", end="").join([first, second])


class ContactList(OptionList):
    """An :class:`OptionList` of contacts whose option ids are the user names."""

    BINDINGS = [Binding("enter", "select", "Open", id="friends.open")]

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._rows: list[tuple[ContactSummary, Presence | None]] = []

    @property
    def highlighted_user(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None

    def show(
        self,
        rows: Sequence[tuple[ContactSummary, Presence | None]],
        *,
        select: str | None = None,
    ) -> None:
        """Replace the list, keeping the highlight on the same user (or ``select``)."""
        keep = select or self.highlighted_user
        self._rows = list(rows)
        self._rebuild(keep)

    def _rebuild(self, keep: str | None) -> None:
        width = max(20, self.scrollable_content_region.width) if self.size.width else 78
        now = self.clock()
        self.set_options(
            Option(contact_row(summary, presence, now, width), id=summary.contact.user)
            for summary, presence in self._rows
        )
        users = [summary.contact.user for summary, _ in self._rows]
        if users:
            self.highlighted = users.index(keep) if keep in users else 0

    def on_resize(self) -> None:
        if self._rows:
            self._rebuild(self.highlighted_user)
