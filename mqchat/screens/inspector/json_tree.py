"""``j`` in the inspector: the shown message's payload as a collapsible JSON tree, over
the inspector, as big as the terminal (for documents the detail pane would scroll
through). A binary payload shows decoded, in the topic's format or the detected one.
``c`` copies the highlighted value as JSON; ``esc`` goes back."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mqchat.inspector.clipboard import MAX_COPY, size_label
from mqchat.inspector.document import Document
from mqchat.inspector.payload import safe_json_dumps
from mqchat.widgets.inspector.json_tree import JsonTree
from mqchat.widgets.inspector.render import safe_topic

__all__ = ["JsonTreeScreen"]


class JsonTreeScreen(ModalScreen[None]):
    """``document`` of a message on ``topic`` as a tree."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = [
        Binding("escape,q,j", "close", "Back", id="inspector.json.close"),
        Binding("c", "copy_value", "Copy value", id="inspector.json.copy"),
    ]

    def __init__(self, topic: str, document: Document) -> None:
        super().__init__()
        self.topic = topic
        self.document = document

    def compose(self) -> ComposeResult:
        with Vertical(id="json-tree-box") as box:
            box.border_title = f"{safe_topic(self.topic)} · {self.document.source}"
            yield JsonTree(self.document.source, self.document.value, id="json-tree")
            yield Static(
                Text(
                    "enter or space opens and closes · c copies the value · esc back",
                    style="dim",
                ),
                id="json-tree-hint",
            )

    def on_mount(self) -> None:
        self.query_one(JsonTree).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_value(self) -> None:
        node = self.query_one(JsonTree).cursor_node
        if node is None or node.data is None or node.data.more_of is not None:
            return
        try:
            text = safe_json_dumps(node.data.value, indent=2)
        except (ValueError, RecursionError):
            self.notify("Not copied: this value cannot be written as JSON.", severity="warning")
            return
        if len(text) > MAX_COPY:
            self.notify(
                f"Not copied: {size_label(len(text))} is more than terminals take through "
                f"OSC 52 ({size_label(MAX_COPY)}); copy a smaller part.",
                severity="warning",
                markup=False,
            )
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the value, {size_label(len(text))} JSON.", timeout=3, markup=False)
