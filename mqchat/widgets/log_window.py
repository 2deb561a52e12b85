"""What the conversation log holds and how it is laid out in lines: a window of
consecutive messages (never the whole history), with the day separators, the "new
since you last looked" line and the note at the beginning between them.

The window is pure bookkeeping for :class:`~mqchat.widgets.message_log.MessageLog`:
it keeps the messages in conversation order (timestamp, then id, as the store
pages them), wraps each one to the width once and keeps those lines until the width
or the message's delivery state changes, and maps a line number to what is drawn
there. Memory depends on the window's size, not on how far the user scrolled."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum

from rich.console import Console
from rich.text import Text
from textual.strip import Strip

from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.core.rooms import is_room_key
from mqchat.widgets.message_lines import message_body, message_plain, message_texts
from mqchat.widgets.render import day_label, local_day, safe

__all__ = ["Kind", "LogWindow", "advances", "order_key"]

# How far along its way a message is: a state update never moves it backwards
# (a late "sent" must not hide an earlier "read").
_RANK = {
    DeliveryState.PENDING: 0,
    DeliveryState.FAILED: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.READ: 4,
    DeliveryState.RECEIVED: 4,
}

UNREAD_LINE = "new since you last looked"


def advances(old: DeliveryState, new: DeliveryState) -> bool:
    """Whether ``new`` is news after ``old`` (failed may follow pending only)."""
    if new is DeliveryState.FAILED:
        return old is DeliveryState.PENDING
    return _RANK[new] > _RANK[old]


def order_key(message: ChatMessage) -> tuple[datetime, str]:
    """A message's place in its conversation, as the store orders it."""
    return (message.ts, message.id)


class Kind(Enum):
    """What a line of the log belongs to."""

    BEGINNING = "beginning"
    DAY = "day"
    UNREAD = "unread"
    MESSAGE = "message"
    OWN = "own"
    """A message of ours (drawn on its own background)."""


class LogWindow:
    """Consecutive messages of one conversation, oldest first, and their lines."""

    def __init__(self, peer: str, peer_label: str, sender_width: int) -> None:
        self.peer = peer
        self.peer_label = peer_label
        self.sender_width = sender_width
        self.messages: list[ChatMessage] = []
        self.at_oldest = False
        """Nothing older exists than the first message held."""
        self.at_newest = False
        """Nothing newer exists than the last message held."""
        self.unread_from: str | None = None
        """The id of the message under the "new since you last looked" line."""
        self.states: dict[str, DeliveryState] = {}
        self._ids: set[str] = set()
        self._bodies: dict[str, Text] = {}
        self._lines: dict[str, list[Strip]] = {}
        # The layout: one entry per block of lines, and the line each starts at.
        self._entries: list[tuple[Kind, int]] = []
        self._starts: list[int] = []
        self._message_entry: list[int] = []
        self._fixed: dict[tuple[Kind, str], Strip] = {}
        self.width = 0
        self.total = 0

    # -- contents -------------------------------------------------------------

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def first(self) -> ChatMessage | None:
        return self.messages[0] if self.messages else None

    @property
    def last(self) -> ChatMessage | None:
        return self.messages[-1] if self.messages else None

    def state(self, message: ChatMessage) -> DeliveryState:
        return self.states.get(message.id, message.state)

    def unread(self, message: ChatMessage) -> bool:
        """From the peer, and not read yet."""
        return not message.outgoing and self.state(message) is DeliveryState.RECEIVED

    def replace(self, messages: Sequence[ChatMessage], *, oldest: bool, newest: bool) -> None:
        """Hold ``messages`` instead (a jump to the beginning or the end)."""
        self.messages = []
        self._ids.clear()
        self._bodies.clear()
        self._lines.clear()
        self.states.clear()
        self.insert(messages)
        self.at_oldest, self.at_newest = oldest, newest

    def insert(self, messages: Iterable[ChatMessage]) -> list[ChatMessage]:
        """Add ``messages`` in their places (those held already are skipped); returns
        the ones added."""
        added = []
        keys = [order_key(m) for m in self.messages]
        for message in sorted(messages, key=order_key):
            if message.id in self._ids:
                continue
            key = order_key(message)
            index = bisect_right(keys, key)
            keys.insert(index, key)
            self.messages.insert(index, message)
            self._ids.add(message.id)
            added.append(message)
        return added

    def drop_oldest(self, count: int) -> None:
        if count > 0:
            self._forget(self.messages[:count])
            self.messages = self.messages[count:]
            self.at_oldest = False

    def drop_newest(self, count: int) -> None:
        if count > 0:
            self._forget(self.messages[-count:])
            self.messages = self.messages[:-count]
            self.at_newest = False

    def _forget(self, messages: Iterable[ChatMessage]) -> None:
        for message in messages:
            self._ids.discard(message.id)
            self._bodies.pop(message.id, None)
            self._lines.pop(message.id, None)
            self.states.pop(message.id, None)

    def set_state(self, message_id: str, state: DeliveryState) -> bool:
        """Move a held message to ``state`` if that is a step forward; whether it was."""
        message = next((m for m in reversed(self.messages) if m.id == message_id), None)
        if message is None or not advances(self.state(message), state):
            return False
        self.states[message_id] = state
        self._lines.pop(message_id, None)
        return True

    def update(self, message: ChatMessage) -> bool:
        """A held message was edited or deleted: it is drawn anew (its place in the
        conversation does not change). Whether it is held."""
        for index, held in enumerate(self.messages):
            if held.id == message.id:
                self.messages[index] = message
                self._bodies.pop(message.id, None)
                self._lines.pop(message.id, None)
                return True
        return False

    def own_next(self, from_id: str | None, direction: int) -> ChatMessage | None:
        """The next message of ours that can still be changed (not deleted), older
        (``direction`` -1) or newer (1) than ``from_id``; from the newest end when
        ``from_id`` is ``None`` or not held."""
        ids = [m.id for m in self.messages]
        start = ids.index(from_id) if from_id in ids else len(ids)
        order = range(start - 1, -1, -1) if direction < 0 else range(start + 1, len(ids))
        for index in order:
            message = self.messages[index]
            if message.outgoing and not message.deleted:
                return message
        return None

    def mark_read(self, up_to: ChatMessage) -> None:
        """Incoming messages up to ``up_to`` are read now (drawn the same, but no
        longer reason to tell the sender)."""
        limit = order_key(up_to)
        for message in self.messages:
            if order_key(message) > limit:
                break
            if self.unread(message):
                self.states[message.id] = DeliveryState.READ

    def body(self, message: ChatMessage) -> Text:
        body = self._bodies.get(message.id)
        if body is None:
            body = self._bodies[message.id] = message_body(message)
        return body

    def plain(self, message: ChatMessage) -> str:
        return message_plain(message, self.state(message), self.peer_label, self.body(message))

    # -- layout ---------------------------------------------------------------

    def layout(self, width: int, today: date, console: Console) -> None:
        """Lay every held message out at ``width`` (reusing the lines made before at
        that width) with the separators between them."""
        if width != self.width:
            self._lines.clear()
            self._fixed.clear()
            self.width = width
        self._today, self._console = today, console
        entries: list[tuple[Kind, int]] = []
        starts: list[int] = []
        message_entry: list[int] = []
        line = 0

        def add(kind: Kind, index: int, height: int) -> None:
            nonlocal line
            entries.append((kind, index))
            starts.append(line)
            line += height

        if self.at_oldest:
            add(Kind.BEGINNING, -1, 2)
        previous: date | None = None
        for index, message in enumerate(self.messages):
            day = local_day(message.ts)
            if (previous is None and self.at_oldest) or (previous is not None and day != previous):
                add(Kind.DAY, index, 1)
            previous = day
            if message.id == self.unread_from:
                add(Kind.UNREAD, index, 1)
            message_entry.append(len(entries))
            kind = Kind.OWN if message.outgoing else Kind.MESSAGE
            add(kind, index, len(self._message_lines(message)))
        self._entries, self._starts, self._message_entry = entries, starts, message_entry
        self.total = line

    def _message_lines(self, message: ChatMessage) -> list[Strip]:
        lines = self._lines.get(message.id)
        if lines is None:
            texts = message_texts(
                message,
                self.state(message),
                self.peer_label,
                self.sender_width,
                self.width,
                self._console,
                self.body(message),
            )
            lines = [Strip(text.render(self._console), self.width) for text in texts]
            self._lines[message.id] = lines
        return lines

    def _centred(self, kind: Kind, words: str | Text) -> Strip:
        key = (kind, words.plain if isinstance(words, Text) else words)
        strip = self._fixed.get(key)
        if strip is None:
            text = words.copy() if isinstance(words, Text) else Text(words, end="")
            title = Text.assemble("── ", text, " ──", end="")
            title.truncate(self.width, overflow="ellipsis")
            title.align("center", self.width)
            strip = self._fixed[key] = Strip(title.render(self._console), self.width)
        return strip

    def line(self, y: int) -> tuple[Strip, Kind] | None:
        """What is drawn on line ``y`` of the layout, and what it belongs to."""
        if not 0 <= y < self.total:
            return None
        entry = bisect_right(self._starts, y) - 1
        kind, index = self._entries[entry]
        offset = y - self._starts[entry]
        if kind is Kind.BEGINNING:
            if offset:
                return Strip.blank(self.width), kind
            with_whom = "the room" if is_room_key(self.peer) else safe(self.peer)
            words = Text.assemble("the beginning of your conversation with ", with_whom, end="")
            return self._centred(kind, words), kind
        if kind is Kind.DAY:
            label = day_label(local_day(self.messages[index].ts), self._today)
            return self._centred(kind, label), kind
        if kind is Kind.UNREAD:
            return self._centred(kind, UNREAD_LINE), kind
        return self._message_lines(self.messages[index])[offset], kind

    def start_of(self, message_id: str) -> int | None:
        """The first line of a held message."""
        for index, message in enumerate(self.messages):
            if message.id == message_id:
                return self._starts[self._message_entry[index]]
        return None

    def unread_line(self) -> int | None:
        """The line of "new since you last looked", if it is held."""
        for entry, (kind, _) in enumerate(self._entries):
            if kind is Kind.UNREAD:
                return self._starts[entry]
        return None

    def height_of(self, message_id: str) -> int:
        message = next(m for m in self.messages if m.id == message_id)
        return len(self._message_lines(message))

    def message_index_at(self, y: int) -> int | None:
        """The message drawn on line ``y``, or the next one below a separator."""
        if not self._entries or not 0 <= y < self.total:
            return None
        entry = bisect_right(self._starts, y) - 1
        for kind, index in self._entries[entry:]:
            if kind in (Kind.MESSAGE, Kind.OWN):
                return index
        return None

    def message_at(self, y: int) -> ChatMessage | None:
        index = self.message_index_at(y)
        return None if index is None else self.messages[index]

    def between(self, top: int, bottom: int) -> list[ChatMessage]:
        """The messages with at least one line in ``top`` ≤ line < ``bottom``."""
        if not self._entries or bottom <= top:
            return []
        first = bisect_right(self._starts, max(top, 0)) - 1
        last = bisect_right(self._starts, bottom - 1) - 1
        return [
            self.messages[index]
            for kind, index in self._entries[max(first, 0) : last + 1]
            if kind in (Kind.MESSAGE, Kind.OWN)
        ]
