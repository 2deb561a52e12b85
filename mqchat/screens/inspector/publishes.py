"""``p`` in the inspector: the saved publishes (named, from ``config.toml``) and the
ones sent lately (newest first), in one list; ``enter`` resends the highlighted one
at once, ``e`` opens it in the publish form to change it first, ``x`` forgets a
saved one. Opened from the publish form (``ctrl+o``), ``enter`` fills the form
instead. Topics and payloads are shown literally, one line each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mqchat.inspector.payload import preview
from mqchat.inspector.publishes import Publish, PublishBook
from mqchat.screens.inspector.forms import InspectorDialog
from mqchat.widgets.inspector.render import safe_topic

__all__ = ["Chosen", "PublishesScreen", "publish_line"]


@dataclass(frozen=True, slots=True)
class Chosen:
    """What the list was left with: ``publish`` to ``send`` now or to ``edit``."""

    publish: Publish
    action: Literal["send", "edit"]


def publish_line(publish: Publish, name: str | None = None, width: int = 64) -> Text:
    """``★ name  topic  payload`` (or without the name), on one line, literal."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if name is not None:
        text.append(f"★ {safe_topic(name)}  ", style="bold yellow")
    text.append(safe_topic(publish.topic), style="bold")
    flags = f"  Q{publish.qos}" + (" R" if publish.retain else "")
    text.append(flags, style="dim")
    text.append("  ")
    text.append(preview(publish.payload.encode("utf-8", "surrogateescape"), width))
    return text


class PublishesScreen(InspectorDialog[Chosen]):
    """The saved and sent publishes of ``book``; ``filling``: opened from the form,
    so ``enter`` hands the publish back to be edited instead of sent."""

    title_text = "Saved and sent publishes"
    BINDINGS = [
        Binding("e", "edit", "Edit first", id="inspector.publishes.edit"),
        Binding("x,delete", "forget", "Forget saved", id="inspector.publishes.forget"),
    ]

    def __init__(self, book: PublishBook, *, filling: bool = False) -> None:
        super().__init__()
        self.book = book
        self.filling = filling
        self.rows: list[tuple[str | None, Publish]] = []
        self.hint = (
            "enter fills the form · x forgets (saved) · esc cancels"
            if filling
            else "enter resends · e edits first · x forgets (saved) · esc cancels"
        )

    def compose_fields(self) -> ComposeResult:
        yield OptionList(id="publishes")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(OptionList).focus()

    def _fill(self) -> None:
        options: list[Option] = []
        self.rows = []
        saved = self.book.saved
        where = "in config.toml" if self.book.can_save else "none: no config file"
        options.append(Option(Text(f"Saved ({len(saved)}, {where})", style="dim"), disabled=True))
        for name, publish in sorted(saved.items(), key=lambda kv: kv[0].casefold()):
            options.append(Option(publish_line(publish, name), id=str(len(self.rows))))
            self.rows.append((name, publish))
        sent = self.book.history.entries
        options.append(
            Option(Text(f"Sent ({len(sent)}, newest first)", style="dim"), disabled=True)
        )
        for publish in sent:
            options.append(Option(publish_line(publish), id=str(len(self.rows))))
            self.rows.append((None, publish))
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options(options)
        first = next((i for i, o in enumerate(options) if o.id is not None), None)
        listing.highlighted = first

    def _highlighted(self) -> tuple[str | None, Publish] | None:
        listing = self.query_one(OptionList)
        if listing.highlighted is None:
            return None
        option = listing.get_option_at_index(listing.highlighted)
        return None if option.id is None else self.rows[int(option.id)]

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            publish = self.rows[int(event.option.id)][1]
            self.dismiss(Chosen(publish, "edit" if self.filling else "send"))

    def action_edit(self) -> None:
        row = self._highlighted()
        if row is not None:
            self.dismiss(Chosen(row[1], "edit"))

    def action_forget(self) -> None:
        row = self._highlighted()
        if row is None or row[0] is None:
            self.show_error("only a saved publish can be forgotten (x)")
            return
        failed = self.book.forget(row[0])
        if failed:
            self.show_error(failed)
            return
        self.notify(f"Forgot {safe_topic(row[0])} (removed from config.toml).", markup=False)
        self._fill()
