"""A conversation's messages, drawn with Textual's line API: only the lines on screen
are rendered, and only a window of messages (:class:`~mqchat.widgets.log_window.LogWindow`)
is held, fetched page by page from the history as the user scrolls, so memory does
not grow with how far back they go. Jumping to the beginning or the end replaces the
window rather than walking to it.

The log says which messages were on screen (:class:`MessageLog.Seen`): that, not the
conversation being open, is what makes a message read. Scrolled up, new messages
wait under a "N new messages ↓" note on the bottom line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.widgets.log_pages import History, LogPages, trim
from mqchat.widgets.log_window import Kind, LogWindow, order_key
from mqchat.widgets.new_below import MAX_UNSEEN, NewBelow
from mqchat.widgets.render import local_day

__all__ = ["MessageLog"]

MAX_SENDER_WIDTH = 12


class MessageLog(ScrollView, can_focus=False):
    """Scrolls by lines; pages are fetched ahead of the viewport (``prefetch`` pages
    of lines before either end) and the window trimmed at the far end past
    ``max_messages``."""

    COMPONENT_CLASSES = {
        "message-log--own",
        "message-log--day",
        "message-log--unread",
        "message-log--beginning",
        "message-log--new",
        "message-log--hit",
        "message-log--selected",
    }
    DEFAULT_CSS = """
    MessageLog {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .message-log--own { background: $boost; }
        & > .message-log--day { color: $text-muted; text-style: bold; }
        & > .message-log--unread { color: $error; text-style: bold; }
        & > .message-log--beginning { color: $text-muted; }
        & > .message-log--new { color: $text; background: $accent; text-style: bold; }
        & > .message-log--hit { background: $warning 40%; }
        & > .message-log--selected { background: $accent 50%; }
    }
    """

    page_size = 100
    max_messages = 500
    prefetch = 2

    class Seen(Message):
        """``message`` is the newest unread message from the peer on screen."""

        def __init__(self, message: ChatMessage) -> None:
            super().__init__()
            self.message = message

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = LogWindow("", "", 3)
        self.pages: LogPages | None = None
        """Where the messages come from; ``None`` until :meth:`open`."""
        self.clock: Callable[[], datetime] = datetime.now
        self.following = True
        """Kept at the newest message: new ones scroll into view."""
        self.unseen = NewBelow()
        """New incoming messages that arrived below the screen, oldest first."""
        self._early_states: dict[str, DeliveryState] = {}
        self._fetching: set[int] = set()
        self._placed = False
        self._last_seen: str | None = None
        self.hit: str | None = None
        """The id of the message a search jumped to, drawn highlighted."""
        self.selected: str | None = None
        """The id of our message picked to edit or delete, drawn highlighted."""

    # -- opening --------------------------------------------------------------------

    async def open(
        self, source: History, peer: str, peer_label: str, clock: Callable[[], datetime]
    ) -> None:
        """Show the newest messages with ``peer``; with unread ones, from the first of
        them (under "new since you last looked"), as far as a window reaches."""
        self.clock = clock
        self.pages = LogPages(source, page_size=self.page_size, max_messages=self.max_messages)
        width = min(MAX_SENDER_WIDTH, max(3, len(peer_label)))
        self.window = LogWindow(peer, peer_label, width)
        await self.pages.open(self.window)
        self._relayout(None)
        self._place()

    def _place(self) -> None:
        """The first position once the size is known: the unread line at the top when
        it would otherwise be above the screen, else the end."""
        height = self.scrollable_content_region.height
        if self._placed or self.pages is None or not height or not self.window.width:
            return
        self._placed = True
        line = self.window.unread_line()
        if line is not None and line < self.window.total - height:
            self.following = False
            self.scroll_to(y=line, animate=False, immediate=True)
        else:
            self.following = True
            self.scroll_end(animate=False, immediate=True)
        self._after_scroll()

    # -- what the screen tells it -------------------------------------------------------

    async def add(self, messages: Iterable[ChatMessage]) -> None:
        """New messages (arrived, or sent by us: those bring the view to the end)."""
        messages = list(messages)
        if any(m.outgoing for m in messages) and not self.window.at_newest:
            await self.jump_newest()
        following = self.following and self.window.at_newest
        anchor = self._anchor()
        first = self.window.first
        if self.window.at_newest:
            # Older than the window's start belongs to pages not held.
            keep = [
                m
                for m in messages
                if self.window.at_oldest or first is None or order_key(m) > order_key(first)
            ]
            added = self.window.insert(keep)
        else:
            added = [m for m in messages if m.id not in self.window]
        for message in added:
            state = self._early_states.pop(message.id, None)
            if state is not None:
                self.window.set_state(message.id, state)
        if not following:
            self.unseen.add(m for m in added if not m.outgoing)
        self.following = following
        self._relayout(anchor)
        self._trim()

    def set_state(self, message_id: str, state: DeliveryState) -> None:
        """A delivery state changed: the mark is redrawn in place."""
        if message_id in self.window:
            if self.window.set_state(message_id, state):
                self._relayout(self._anchor())
        elif len(self._early_states) < MAX_UNSEEN:
            # It may come before its message does (a fast acknowledgement).
            self._early_states[message_id] = state

    def update(self, message: ChatMessage) -> None:
        """A message was edited or deleted: redrawn in place, if held."""
        if self.window.update(message):
            self._relayout(self._anchor())

    def state_of(self, message_id: str) -> DeliveryState | None:
        message = next((m for m in self.window.messages if m.id == message_id), None)
        return None if message is None else self.window.state(message)

    def mark_read(self, up_to: ChatMessage) -> None:
        self.window.mark_read(up_to)

    # -- looking at it -------------------------------------------------------------------

    def plain_rows(self) -> list[str]:
        """Every held message as one plain line (for tests and screen readers)."""
        return [self.window.plain(m) for m in self.window.messages]

    def on_screen(self) -> list[ChatMessage]:
        """The messages with at least one line on screen (not under the note)."""
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if self._note_shown:
            height -= 1
        return self.window.between(top, top + height)

    @property
    def _note_shown(self) -> bool:
        return bool(self.new_below) and not self.following

    def newest_unread_on_screen(self) -> ChatMessage | None:
        return next((m for m in reversed(self.on_screen()) if self.window.unread(m)), None)

    @property
    def new_below(self) -> int:
        """How many new messages wait below the screen."""
        return len(self.unseen)

    # -- moving ---------------------------------------------------------------------------

    async def page(self, direction: int) -> None:
        """Exactly one screen up (-1) or down (1), fetching what lies beyond first."""
        height = max(1, self.scrollable_content_region.height)
        target = round(self.scroll_y) + direction * height
        while target < 0 and not self.window.at_oldest:
            before = round(self.scroll_y)
            if not await self.load(-1):
                break
            target += round(self.scroll_y) - before
        while target > self.max_scroll_y and not self.window.at_newest:
            before = round(self.scroll_y)
            if not await self.load(1):
                break
            target += round(self.scroll_y) - before
        self.scroll_to(y=max(0, min(target, self.max_scroll_y)), animate=False, immediate=True)

    async def jump_oldest(self) -> None:
        if not self.window.at_oldest and self.pages is not None:
            await self.pages.oldest(self.window)
            self._relayout(None)
        self.scroll_to(y=0, animate=False, immediate=True)

    async def jump_newest(self) -> None:
        if not self.window.at_newest and self.pages is not None:
            await self.pages.newest(self.window)
            self._relayout(None)
        self.following = True
        self.scroll_end(animate=False, immediate=True)

    async def jump_to(self, message: ChatMessage) -> None:
        """Show ``message`` in its context, in the middle of the screen, highlighted
        (a search hit): the pages around it replace the window unless it is held."""
        if message.id not in self.window and self.pages is not None:
            await self.pages.around(self.window, message)
            self._relayout(None)
        self.hit = message.id
        line = self.window.start_of(message.id) or 0
        height = self.scrollable_content_region.height
        self.following = False
        self.scroll_to(y=max(0, line - height // 2), animate=False, immediate=True)
        self._after_scroll()
        self.refresh()

    def clear_hit(self) -> None:
        if self.hit is not None:
            self.hit = None
            self.refresh()

    async def load(self, direction: int) -> bool:
        """Fetch the page before (-1) or after (1) the window; whether any came."""
        page = None if self.pages is None else await self.pages.beyond(self.window, direction)
        if page is None:  # nothing beyond, or jumped elsewhere meanwhile
            return False
        anchor = self._anchor()  # inserted at once, before anything else may run
        added = self.window.insert(page)
        if direction < 0:
            self.window.at_oldest = len(page) < self.page_size
        else:
            self.window.at_newest = len(page) < self.page_size
        self._relayout(anchor)
        self._trim()
        return bool(added) or len(page) < self.page_size

    def _trim(self) -> None:
        """Past ``max_messages``, forget messages far from the screen (see :func:`trim`)."""
        height = self.scrollable_content_region.height
        if len(self.window) <= self.max_messages or not height or not self.window.total:
            return
        anchor = self._anchor()
        top, ahead = round(self.scroll_y), self.prefetch * height
        trim(self.window, self.max_messages, top - ahead, top + height + ahead, self.following)
        self._relayout(anchor)

    def _anchor(self) -> tuple[str, int] | None:
        """The message at the top of the screen and how far into it the screen starts,
        to keep it there while pages come and go around it."""
        if not self.window.total:
            return None
        top = round(self.scroll_y)
        message = self.window.message_at(top)
        if message is None:
            return None
        start = self.window.start_of(message.id)
        return (message.id, top - start) if start is not None else None

    def _relayout(self, anchor: tuple[str, int] | None) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        self.window.layout(width, local_day(self.clock()), self.app.console)
        self.virtual_size = Size(width, self.window.total)
        if not self._placed:
            self._place()
        elif self.following and self.window.at_newest:
            self.scroll_end(animate=False, immediate=True)
        elif anchor is not None:
            start = self.window.start_of(anchor[0])
            if start is not None:
                self.scroll_to(y=max(0, start + anchor[1]), animate=False, immediate=True)
        self.refresh()
        self._after_scroll()

    def on_resize(self, event: events.Resize) -> None:
        anchor = self._anchor()
        self._relayout(anchor)

    # -- scrolling ------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._placed and self.window.width:
            self.following = self.window.at_newest and round(new_value) >= self.max_scroll_y
            self._after_scroll()

    def _after_scroll(self) -> None:
        """What follows any move: what was seen, and what to fetch ahead."""
        height = self.scrollable_content_region.height
        if not self._placed or not height:
            return
        shown = self.on_screen()
        if shown and self.unseen.seen_up_to(shown[-1]):
            self.refresh()
        if self.following and self.window.at_newest:
            self.unseen.clear()
        unread = self.newest_unread_on_screen()
        if unread is not None and unread.id != self._last_seen:
            self._last_seen = unread.id
            self.post_message(self.Seen(unread))
        for direction in (-1, 1):
            if direction not in self._fetching and self._wants(direction):
                self._fetching.add(direction)
                self.run_worker(self._fetch_ahead(direction), group="message-log.page")

    def _wants(self, direction: int) -> bool:
        """Whether the screen is within ``prefetch`` pages of that end of the window
        (and there is more beyond it)."""
        height = self.scrollable_content_region.height
        ahead = self.prefetch * height
        top = round(self.scroll_y)
        if direction < 0:
            return not self.window.at_oldest and top < ahead
        return not self.window.at_newest and self.window.total - (top + height) < ahead

    async def _fetch_ahead(self, direction: int) -> None:
        try:
            while self._wants(direction):
                if not await self.load(direction):
                    break
        finally:
            self._fetching.discard(direction)

    def on_click(self, event: events.Click) -> None:
        # A click on the "new messages" note goes to them.
        offset = event.get_content_offset(self)
        if (
            self.new_below
            and offset is not None
            and offset.y == self.scrollable_content_region.height - 1
        ):
            event.stop()
            self.run_worker(self.jump_newest(), group="message-log.jump")

    # -- drawing -------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Laid out as it is first drawn (its size known, its Resize not yet come), the
        # first frame shows the messages, not an empty box.
        if not self._placed and self.pages is not None and self.window.width == 0:
            self._relayout(None)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        base = self.rich_style
        if width <= 0:
            return Strip.blank(0, base)
        if self._note_shown and y == height - 1:
            style = self.rich_style + self.get_component_rich_style("message-log--new")
            return self.unseen.strip(width, self.app.console, style)
        # Fewer lines than the screen: they sit at the bottom, by the message box, as
        # in any messenger (the blank lines go on top).
        line = round(self.scroll_y) + y - max(0, height - self.window.total)
        found = self.window.line(line)
        if found is None or found[0].cell_length != width:
            return Strip.blank(width, base)
        strip, kind = found
        if kind is not Kind.MESSAGE:
            style = base + self.get_component_rich_style(f"message-log--{kind.value}")
        else:
            style = base
        marked = self.window.message_at(line) if self.hit or self.selected else None
        if kind in (Kind.MESSAGE, Kind.OWN) and marked is not None:
            if marked.id == self.selected:
                style += self.get_component_rich_style("message-log--selected")
            elif marked.id == self.hit:
                style += self.get_component_rich_style("message-log--hit")
        return strip.apply_style(style)
