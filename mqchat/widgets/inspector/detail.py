"""The inspector's detail pane: the last message of the selected topic (or the one
picked in the log) with its flags, the payload as JSON, text, hex or base64, its
MQTT 5 properties, and the topic's recent history with a sparkline. A binary payload
a codec fits has a decoded view (MessagePack, CBOR, Protobuf, Sparkplug B); a sealed
chat message has one more view inside the chat: its envelope decrypted here."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.payload import View
from mqchat.inspector.sealed import Sealing
from mqchat.widgets.inspector.detail_render import VIEWS, detail_parts

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
        """(seq, view, newest kept seq, sparkline field, sealing, chosen format) of
        what is drawn, to skip redrawing (and decoding) it again."""
        self.view: View | None = None
        """The view last drawn (the detected one unless the user cycled)."""
        self.views: tuple[View, ...] = VIEWS
        """The views the message drawn has, in the order ``v`` cycles them."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")

    def show_hint(self, hint: str) -> None:
        self.shown = None
        self.query_one("#detail-body", Static).update(Text(hint, style="dim italic"))

    def show(
        self,
        message: Captured,
        view: View | None,
        history: Sequence[Captured],
        *,
        count: int,
        field: str | None = None,
        sealing: Sealing | None = None,
        chosen: Format | None = None,
        decoding: Decoding | None = None,
    ) -> None:
        key = (message.seq, view, len(history) and history[-1].seq, field, sealing, chosen)
        if key == self.shown:
            return
        width = max(self.scrollable_content_region.width, 20)
        text, formatted, self.views = detail_parts(
            message,
            view,
            history,
            count=count,
            width=width,
            field=field,
            sealing=sealing,
            chosen=chosen,
            decoding=decoding,
        )
        self.view = formatted.view
        self.shown = key
        self.query_one("#detail-body", Static).update(text)
