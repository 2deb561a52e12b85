"""A help box listing every key of a screen, those the compact footer has no room for
included: built from the screen's live bindings, so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

__all__ = ["KeysHelpScreen", "key_rows"]


def key_rows(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(keys, what they do) of ``screen``'s own bindings, in their order; the keys of
    one action are shown together (``esc/q``)."""
    merged: dict[str, list[str]] = {}
    live = screen._bindings.copy()
    live.apply_keymap(screen.app._keymap)  # keys rebound by [keys] of the config file
    for bindings in live.key_to_bindings.values():
        for binding in bindings:
            if binding.system or not binding.description:
                continue
            keys = merged.setdefault(binding.tooltip or binding.description, [])
            keys.append(screen.app.get_key_display(binding))
    return [("/".join(keys), description) for description, keys in merged.items()]


class KeysHelpScreen(ModalScreen[None]):
    """``title``, then ``rows`` of (keys, description) and the ``extra`` ones (keys
    of the widgets, like the arrows of a tree); any of ``escape``, ``?`` or ``q``
    closes it."""

    DEFAULT_CSS = """
    KeysHelpScreen {
        align: center middle;
    }
    KeysHelpScreen > VerticalScroll {
        width: 76;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        padding: 0 1;
        background: $surface;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(
        self,
        title: str,
        rows: Sequence[tuple[str, str]],
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)
        self.extra = list(extra)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = self.title_text
            box.border_subtitle = "esc closes"
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self.rows:
            table.add_row(keys, description)
        if self.extra:
            table.add_row("", "")
            for keys, description in self.extra:
                table.add_row(Text(keys, style="bold dim"), Text(description, style="dim"))
        return table

    def action_close(self) -> None:
        self.dismiss()
