"""The inspector's detail pane: the last message of the selected topic (or the one
picked in the log) with its flags, the payload as JSON, text, hex or base64, its
MQTT 5 properties, and the topic's recent history with a sparkline. A binary payload
a codec fits has a decoded view (MessagePack, CBOR, Protobuf, Sparkplug B); a sealed
chat message has one more view inside the chat: its envelope decrypted here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mqchat.inspector.capture import Captured
from mqchat.inspector.payload import View
from mqchat.widgets.inspector.detail_render import VIEWS, DetailOptions, detail_parts

__all__ = ["DetailView"]


class DetailView(VerticalScroll):
    DEFAULT_CSS = """
    DetailView > Static {
        width: 100%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: tuple[object, ...] | None = None
        """(seq, newest kept seq, options but the width) of what is drawn, to skip
        redrawing (and decoding) it again."""
        self.view: View | None = None
        """The view last drawn (the detected one unless the user cycled)."""
        self.views: tuple[View, ...] = VIEWS
        """The views the message drawn has, in the order ``v`` cycles them."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")

    def show_hint(self, hint: str) -> None:
        self.shown = None
        self.query_one("#detail-body", Static).update(Text(hint, style="dim italic"))

    def show(self, message: Captured, history: Sequence[Captured], options: DetailOptions) -> None:
        """Draw ``message`` (of a topic whose kept messages are ``history``) as
        ``options`` say, at the pane's width; unless it is drawn already."""
        newest = len(history) and history[-1].seq
        key = (message.seq, newest, replace(options, width=0, decoding=None))
        if key == self.shown:
            return
        width = max(self.scrollable_content_region.width, 20)
        text, formatted, self.views = detail_parts(message, history, replace(options, width=width))
        self.view = formatted.view
        self.shown = key
        self.query_one("#detail-body", Static).update(text)
