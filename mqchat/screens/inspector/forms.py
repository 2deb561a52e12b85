"""Small dialogs of the inspector: filter the view, subscribe, unsubscribe, export.
Each checks what was typed on the spot and dismisses with a value ready to use, or
``None`` when cancelled."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from mqchat.core.text import display_safe
from mqchat.core.topic_filter import InvalidFilter, compile_filter, validate_filter
from mqchat.inspector.view import ViewFilter
from mqchat.widgets.inspector.render import safe_topic

__all__ = [
    "ExportScreen",
    "InspectorDialog",
    "SubscribeScreen",
    "UnsubscribeScreen",
    "ViewFilterScreen",
]

T = TypeVar("T")


class InspectorDialog(ModalScreen[T | None]):
    """A dialog box with a title, a hint line that turns into the error line, and
    ``escape`` to cancel."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="inspector.dialog.cancel")]
    title_text = ""
    hint = "enter confirms · esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical(classes="inspector-dialog") as box:
            box.border_title = self.title_text
            yield from self.compose_fields()
            yield Static(Text(self.hint, style="dim"), classes="dialog-hint")

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        first = self.query(Input).first() if self.query(Input) else None
        if first is not None:
            first.focus()

    def show_error(self, error: str) -> None:
        self.query_one(".dialog-hint", Static).update(
            Text(f"✗ {display_safe(error)}", style="bold red")
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


def _field(label: str, field: Input) -> Horizontal:
    """``label`` and a one-line input beside it (compact: a form fits 30 rows)."""
    field.compact = True
    return Horizontal(Label(label, classes="field-label"), field, classes="field")


class ViewFilterScreen(InspectorDialog[ViewFilter]):
    """Filter the view; both fields empty shows everything again."""

    title_text = "Filter the view"
    hint = "enter applies · empty fields show everything · esc cancels"

    def __init__(self, current: ViewFilter) -> None:
        super().__init__()
        self.current = current

    def compose_fields(self) -> ComposeResult:
        yield _field(
            "Topic",
            Input(self.current.topic or "", placeholder="e.g. home/+/temperature", id="f-topic"),
        )
        yield _field(
            "Payload", Input(self.current.text or "", placeholder="text it contains", id="f-text")
        )

    @on(Input.Submitted)
    def submit(self) -> None:
        topic = self.query_one("#f-topic", Input).value.strip() or None
        text = self.query_one("#f-text", Input).value or None
        if topic is not None:
            try:
                compile_filter(topic)
            except InvalidFilter as exc:
                self.show_error(str(exc))
                return
        self.dismiss(ViewFilter(topic, text))


def _qos(text: str) -> int:
    if text.strip() not in ("0", "1", "2"):
        raise ValueError("QoS must be 0, 1 or 2")
    return int(text)


class SubscribeScreen(InspectorDialog[tuple[str, int]]):
    """A topic filter and the QoS to subscribe with."""

    title_text = "Subscribe"

    def __init__(self, suggestion: str = "") -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose_fields(self) -> ComposeResult:
        yield _field("Filter", Input(self.suggestion, placeholder="e.g. home/#", id="s-filter"))
        yield _field("QoS", Input("0", restrict=r"[012]?", max_length=1, id="s-qos"))

    @on(Input.Submitted)
    def submit(self) -> None:
        topic_filter = self.query_one("#s-filter", Input).value.strip()
        try:
            validate_filter(topic_filter)
            qos = _qos(self.query_one("#s-qos", Input).value)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss((topic_filter, qos))


class UnsubscribeScreen(InspectorDialog[str]):
    """Pick one of the subscriptions to leave."""

    title_text = "Unsubscribe"
    hint = "enter unsubscribes the highlighted filter · esc cancels"

    def __init__(self, filters: list[str]) -> None:
        super().__init__()
        self.filters = filters

    def compose_fields(self) -> ComposeResult:
        yield OptionList(
            *(Option(Text(safe_topic(f)), id=str(i)) for i, f in enumerate(self.filters)),
            id="u-filters",
        )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.filters[int(event.option.id or 0)])


class ExportScreen(InspectorDialog[Path]):
    """Where to write the JSON Lines file."""

    title_text = "Export to JSON Lines"

    def __init__(self, default: Path, count: int, what: str) -> None:
        super().__init__()
        self.default = default
        self.count = count
        self.what = what

    def compose_fields(self) -> ComposeResult:
        yield Static(Text(f"{self.count:,} {self.what}, oldest first, one JSON object a line."))
        yield _field("File", Input(str(self.default), id="e-path"))

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.show_error("give a file name")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self.show_error(f"{path} is a folder; name a file in it")
            return
        self.dismiss(path)
