"""The inspector's detail pane and what chooses its content: the topic selected in the
tree or a message picked in the log, shown in the payload view chosen with ``v``, the
format set for its topic with ``f`` (saved through ``remember`` when it can be), and
the JSON field its sparkline follows (``n``). The base of
:class:`~mqchat.screens.inspector.screen.InspectorScreen`, which owns the capture and
the timer that redraws the pane."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual import on
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen

from mqchat.core.text import display_safe
from mqchat.inspector.capture import Captured
from mqchat.inspector.clipboard import Clip, payload_clip, topic_clip
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.document import payload_document
from mqchat.inspector.model import InspectorModel
from mqchat.inspector.payload import View, numeric_fields
from mqchat.inspector.sealed import SealedReader, Unseal
from mqchat.inspector.view import InspectorView
from mqchat.screens.inspector.json_tree import JsonTreeScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.detail_render import DetailOptions, next_view, spark_field
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.render import plural, safe_topic
from mqchat.widgets.inspector.tree import TopicTreeView

__all__ = ["DETAIL_BINDINGS", "InspectorDetailScreen"]


DETAIL_BINDINGS = [
    Binding(
        "d",
        "diff",
        "Diff",
        show=False,
        id="inspector.diff",
        tooltip="Diff against the topic's previous message (d again: back)",
    ),
    Binding(
        "j",
        "json_tree",
        "JSON tree",
        show=False,
        id="inspector.json_tree",
        tooltip="The payload as a collapsible JSON tree (decoded when binary)",
    ),
    Binding(
        "c",
        "copy_payload",
        "Copy payload",
        show=False,
        id="inspector.copy_payload",
        tooltip="Copy the shown payload (OSC 52: works over SSH)",
    ),
    Binding(
        "C",
        "copy_topic",
        "Copy topic",
        show=False,
        id="inspector.copy_topic",
        tooltip="Copy the selected topic (OSC 52)",
    ),
]
"""The keys of the detail pane's reading aids; the inspector screen lists them after
``v`` (so its help reads in order), and this screen's actions answer them."""


class InspectorDetailScreen(Screen[None]):
    """The detail of what ``model`` captured, as ``shown`` (the view filter's tree);
    ``unseal``, ``decoding``, ``formats`` and ``remember`` as for the inspector
    screen."""

    def __init__(
        self,
        model: InspectorModel,
        shown: InspectorView,
        *,
        unseal: Unseal | None,
        decoding: Decoding | None,
        formats: Mapping[str, Format] | None,
        remember: Callable[[str, str | None], str | None] | None,
    ) -> None:
        super().__init__()
        self.model = model
        self.shown = shown
        """What of the model is in view (the view filter, the log's rows)."""
        self.view: View | None = None
        """The payload view the user chose with ``v``; ``None``: the detected one."""
        self.selected: str | None = None
        self.picked: Captured | None = None
        """A message picked in the log, shown instead of the topic's last one."""
        self.spark_field: str | None = None
        """The JSON field the sparkline follows (``n``); ``None``: the first numeric."""
        self.sealed = SealedReader(unseal)
        """The shown message's sealed state; opens it when its decrypted view is shown."""
        self.decoding = decoding or Decoding()
        self.formats: dict[str, Format] = dict(formats or {})
        """The payload format set for a topic with ``f`` (else detected)."""
        self.remember = remember
        self._before_diff: View | None = None
        """The view to go back to when ``d`` leaves the diff."""

    def shown_message(self) -> Captured | None:
        """The message the detail shows: the one picked in the log, else the selected
        topic's last."""
        if self.picked is not None:
            return self.picked
        return None if self.selected is None else self.model.store.last(self.selected)

    def _show_detail(self) -> None:
        detail = self.query_one(DetailView)
        store = self.model.store
        topic = self.picked.topic if self.picked is not None else self.selected
        if topic is None:
            return
        detail.border_title = escape(safe_topic(topic))  # a title is markup: keep it literal
        stats = store.stats(topic)
        message = self.picked or (stats.last if stats is not None else None)
        if message is None:
            below = self.shown.tree.count(topic)
            topics = len(self.shown.tree.topics_under(topic))
            detail.show_hint(
                f"{plural(below, 'message')} on {plural(topics, 'topic')} below this level; "
                "select a topic to see its messages."
            )
            return
        history = store.history(topic)
        options = DetailOptions(
            view=self.view,
            count=stats.count if stats is not None else 1,
            field=spark_field(history, self.spark_field),
            sealing=self.sealed.state(message, open_it=self.view is View.DECRYPTED),
            chosen=self.formats.get(message.topic),
            decoding=self.decoding,
        )
        detail.show(message, history, options)

    # -- selection ------------------------------------------------------------------

    @on(TopicTreeView.Highlighted)
    def topic_highlighted(self, event: TopicTreeView.Highlighted) -> None:
        self.selected = None if event.row is None else event.row.path
        self.picked = None
        self._show_detail()

    @on(MessageLogView.Picked)
    def message_picked(self, event: MessageLogView.Picked) -> None:
        self.picked = event.message
        self._show_detail()

    # -- choosing what the detail shows ---------------------------------------------

    def action_cycle_view(self) -> None:
        detail = self.query_one(DetailView)
        self.view = next_view(detail.view or View.TEXT, detail.views)
        self._show_detail()

    def action_diff(self) -> None:
        """Show what changed from the topic's previous message; again: the view before."""
        if self.view is View.DIFF:
            self.view, self._before_diff = self._before_diff, None
        else:
            self.view, self._before_diff = View.DIFF, self.view
        self._show_detail()

    # -- reading a payload elsewhere: the JSON tree, the clipboard -------------------

    def action_json_tree(self) -> None:
        message = self.shown_message()
        if message is None:
            self.notify("Select a topic with messages first.")
            return
        found = payload_document(
            message, chosen=self.formats.get(message.topic), decoding=self.decoding
        )
        if isinstance(found, str):
            self.notify(found, severity="warning", markup=False)
            return
        self.app.push_screen(JsonTreeScreen(message.topic, found))

    def action_copy_payload(self) -> None:
        message = self.shown_message()
        if message is None:
            self.notify("Select a topic with messages first.")
            return
        self._copy(payload_clip(message.payload, message.size))

    def action_copy_topic(self) -> None:
        topic = self.picked.topic if self.picked is not None else self.selected
        if topic is None:
            self.notify("Select a topic first.")
            return
        self._copy(topic_clip(topic))

    def _copy(self, clip: Clip | str) -> None:
        """Send ``clip`` to the terminal's clipboard (OSC 52), and say what went."""
        if isinstance(clip, str):
            self.notify(clip, title="Not copied", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(clip.text)
        self.notify(f"Copied the {clip.said}.", timeout=3, markup=False)

    def action_cycle_format(self) -> None:
        """Set the selected topic's payload format to the next one (after the last:
        detected again), and show the payload decoded in it."""
        topic = self.picked.topic if self.picked is not None else self.selected
        if topic is None or self.model.store.stats(topic) is None:
            self.notify("Select a topic with messages first.")
            return
        order: list[Format | None] = [None, *self.decoding.formats()]
        current = self.formats.get(topic)
        at = order.index(current) if current in order else 0  # a type of another set
        chosen = order[(at + 1) % len(order)]
        if chosen is None:
            self.formats.pop(topic, None)
        else:
            self.formats[topic] = chosen
        self.view = None  # show the decoded view (or the detected one)
        label = chosen.label if chosen is not None else "detected"
        kept = "for this session"
        if self.remember is not None:
            failed = self.remember(topic, chosen.label if chosen is not None else None)
            if failed:
                self.notify(failed, title="Not saved", severity="warning", markup=False)
            else:
                kept = "saved in config.toml"
        self.notify(f"{safe_topic(topic)}: format {label} ({kept})", timeout=3, markup=False)
        self._show_detail()

    def action_next_field(self) -> None:
        """Let the sparkline follow the next numeric field of the topic's payloads."""
        topic = self.picked.topic if self.picked is not None else self.selected
        history = self.model.store.history(topic) if topic is not None else []
        fields = numeric_fields(history[-1].payload) if history else []
        if not fields:
            self.notify("The selected topic's payload has no numeric JSON field.")
            return
        current = spark_field(history, self.spark_field)
        at = fields.index(current) if current in fields else -1
        self.spark_field = fields[(at + 1) % len(fields)]
        self.notify(f"Sparkline: {display_safe(self.spark_field)}", timeout=2, markup=False)
        self._show_detail()
