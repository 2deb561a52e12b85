"""The friends list: two lines per contact (presence or request state, name, unread
count; last message and its time, or ``typing…``), rebuilt when the data or the
width changes."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mqchat.core.model import ContactStatus, ContactSummary, Presence
from mqchat.core.text import safe_body, safe_name
from mqchat.core.trust import KeyTrust
from mqchat.widgets.render import (
    MAX_NAME_CELLS,
    OFFLINE_STYLE,
    REQUEST_STYLE,
    TYPING_STYLE,
    name_text,
    presence_words,
    safe,
    short_when,
)
from mqchat.widgets.trust_text import contact_badge

__all__ = ["ContactList", "contact_label", "contact_row"]

NAME_WIDTH = 28
PRESENCE_WIDTH = 26
PREVIEW_CHARS = 200
"""Enough of the last message for any width; the rest is cut before rendering."""


_QUOTES = str.maketrans(dict.fromkeys('"“”„‟«»＂〝〞', "'"))


def contact_label(
    user: str, name: str | None, *, friend: bool = False, width: int | None = None
) -> Text:
    """How a user is named on screen; ``width`` (cells) cuts the display name first.

    A friend reads ``Alice (alice)`` (just ``alice`` when the display name adds
    nothing). Anyone else reads ``mallory “Alice (alice)”``: the user name first and
    in bold, the display name after it in quotes (quote marks in it become ``'``).
    So a display name can neither push the user name out of view nor pass for
    another user's label: whatever it says stays inside the quotes."""
    shown = safe_name(name or "")
    cells = width if width is not None else len(user) + 3 + MAX_NAME_CELLS
    who = safe(user, "bold")
    if not shown or shown == user:
        who.truncate(cells, overflow="ellipsis")
        return who
    if friend:
        tail = Text(f" ({user})", style="dim", end="")
        room = min(MAX_NAME_CELLS, cells - tail.cell_len)
        if room < 4:  # no room for a useful part of the name: the user name alone
            who.truncate(cells, overflow="ellipsis")
            return who
        label = name_text(shown, "bold", room)
        label.append_text(tail)
        return label
    room = min(MAX_NAME_CELLS, cells - who.cell_len - 3)
    if room < 2:
        who.truncate(cells, overflow="ellipsis")
        return who
    quoted = name_text(shown.translate(_QUOTES), "italic", room)
    return Text.assemble(who, " “", quoted, "”", end="")


def _state_words(
    summary: ContactSummary, presence: Presence | None, now: datetime, *, known: bool = True
) -> tuple[str, str, str]:
    """``(marker, words, style)``: a request's state, a room's size, else the presence."""
    if summary.members is not None:
        return "#", f"room · {len(summary.members)} members", "cyan"
    status = summary.contact.status
    if status is ContactStatus.INCOMING:
        return "✉", "wants to be your friend", REQUEST_STYLE
    if status is ContactStatus.REQUESTED:
        return "◌", "request pending", OFFLINE_STYLE
    return presence_words(presence, now, known=known)


def _fit(left: Text, right: Text, width: int) -> Text:
    """``left`` cut to leave room, then ``right`` flush with the right edge."""
    room = max(1, width - right.cell_len - (1 if right.cell_len else 0))
    left = left.copy()
    left.truncate(room, overflow="ellipsis")
    left.end = ""
    gap = max(0, width - left.cell_len - right.cell_len)
    return Text.assemble(left, " " * gap, right, end="")


def _first_line(body: str) -> str:
    lines = safe_body(body.lstrip()[: PREVIEW_CHARS * 4]).strip().splitlines()
    return lines[0][:PREVIEW_CHARS] if lines else ""


def contact_row(
    summary: ContactSummary,
    presence: Presence | None,
    now: datetime,
    width: int,
    *,
    typing: bool = False,
    known: bool = True,
    trust: KeyTrust | None = None,
) -> Text:
    """The two lines of one contact, ``width`` cells wide. A request (``✉``) reads
    ``wants to be your friend``, one we sent ``request pending``; ``typing``
    replaces the last message with ``typing…``; not ``known``: presence unknown.
    ``trust``: a ``✓`` after the name of a verified contact, a red ``⚠ keys
    changed`` on the right (before the unread count) when their keys changed."""
    contact = summary.contact
    marker, words, style = _state_words(summary, presence, now, known=known)
    name = contact.display_name or (presence.name if presence else None)

    head = Text.assemble((f"{marker} ", style), end="")
    friend = contact.status is ContactStatus.FRIEND
    if summary.members is not None:  # a room: its name, and how many are in it
        label = name_text(safe_name(contact.display_name or ""), "bold", NAME_WIDTH - 1)
    else:
        label = contact_label(contact.user, name, friend=friend, width=NAME_WIDTH - 1)
    badge = contact_badge(trust if summary.members is None else None)
    changed = trust is not None and trust.changed is not None
    if badge.cell_len and not changed:  # verified: beside the name, which makes room
        label.truncate(NAME_WIDTH - 1 - 1 - badge.cell_len, overflow="ellipsis")
        label.append(" ")
        label.append_text(badge)
    label.pad_right(NAME_WIDTH - label.cell_len)
    head.append_text(label)
    head.append(words[:PRESENCE_WIDTH], style=style)
    right = badge if changed else Text()
    if summary.unread:
        right = Text.assemble(right, "  " if right else "", (f"{summary.unread} new", "bold cyan"))
    first = _fit(head, right, width)

    last = summary.last_message
    if typing:
        second = Text("  typing…", style=TYPING_STYLE, end="")
    elif last is None and contact.is_request:
        second = Text("  y accepts · d ignores", style="dim", end="")
    elif last is None:
        second = Text("  no messages yet", style="dim", end="")
    else:
        preview = Text("  ", end="")
        if last.outgoing:
            preview.append("you: ", style="dim")
        elif summary.members is not None:
            preview.append(f"{last.sender}: ", style="dim")
        if last.deleted:
            preview.append("message deleted", style="dim italic")
        else:
            preview.append_text(safe(f'"{_first_line(last.body)}"', "italic"))
        second = _fit(preview, Text(short_when(last.ts, now), style="dim"), width)
    return Text("\n", end="").join([first, second])


class ContactList(OptionList):
    """An :class:`OptionList` of contacts whose option ids are the user names."""

    BINDINGS = [Binding("enter", "select", "Open", id="friends.open")]

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._rows: list[tuple[ContactSummary, Presence | None]] = []
        self._typing: Container[str] = frozenset()
        self._known = True
        self._trust: Mapping[str, KeyTrust] = {}

    @property
    def highlighted_user(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None

    def show(
        self,
        rows: Sequence[tuple[ContactSummary, Presence | None]],
        *,
        select: str | None = None,
        typing: Container[str] = frozenset(),
        known: bool = True,
        trust: Mapping[str, KeyTrust] | None = None,
    ) -> None:
        """Replace the list, keeping the highlight on the same user (or ``select``);
        users in ``typing`` show ``typing…`` on their second line; not ``known``:
        every presence shows as unknown; ``trust``: each user's keys (badges)."""
        keep = select or self.highlighted_user
        self._rows = list(rows)
        self._typing = typing
        self._known = known
        self._trust = trust or {}
        self._rebuild(keep)

    def _rebuild(self, keep: str | None) -> None:
        width = max(20, self.scrollable_content_region.width) if self.size.width else 78
        now = self.clock()
        self.set_options(
            Option(
                contact_row(
                    summary,
                    presence,
                    now,
                    width,
                    typing=summary.contact.user in self._typing,
                    known=self._known,
                    trust=self._trust.get(summary.contact.user),
                ),
                id=summary.contact.user,
            )
            for summary, presence in self._rows
        )
        users = [summary.contact.user for summary, _ in self._rows]
        if users:
            self.highlighted = users.index(keep) if keep in users else 0

    def on_resize(self) -> None:
        if self._rows:
            self._rebuild(self.highlighted_user)
