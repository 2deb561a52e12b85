"""A help box listing every key of a screen, those the compact footer has no room for
included: built from the screen's live bindings, so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KeysHelpScreen", "key_rows", "show_keys"]


def key_rows(node: DOMNode, *, mqchat_only: bool = False) -> list[tuple[str, str]]:
    """(keys, what they do) of ``node``'s own bindings (a screen's, a widget's, the
    App's), in their order; the keys of one action are shown together (``esc/q``).
    ``mqchat_only``: only the bindings mqchat declares (they have an id), not those
    Textual gives every screen and list (tab, copy, scroll left…), and of those only
    the ones in use now."""
    merged: dict[str, list[str]] = {}
    live = node._bindings.copy()
    live.apply_keymap(node.app._keymap)  # keys rebound by [keys] of the config file
    for bindings in live.key_to_bindings.values():
        for binding in bindings:
            if binding.system or not binding.description:
                continue
            if mqchat_only and (not binding.id or node.check_action(binding.action, ()) is False):
                continue  # Textual's own, or hidden now (ctrl+r while connected)
            keys = merged.setdefault(binding.tooltip or binding.description, [])
            keys.append(node.app.get_key_display(binding))
    return [("/".join(keys), description) for description, keys in merged.items()]


async def show_keys(app: App[Any]) -> None:
    """Every key of the screen shown: its own help when it has one (the inspector's
    ``?``), else a :class:`KeysHelpScreen` of its keys, its focused widget's and the
    App's (``f1``, for keys a narrow footer had no room for)."""
    screen = app.screen
    if isinstance(screen, KeysHelpScreen):
        return
    if any(b.binding.action == "help" for b in screen.active_bindings.values()):
        await app.run_action("help", screen)
        return
    rows = key_rows(screen, mqchat_only=True)
    if screen.focused is not None:
        rows += key_rows(screen.focused, mqchat_only=True)
    rows += key_rows(app, mqchat_only=True)
    if app.ENABLE_COMMAND_PALETTE:
        rows.append((app.COMMAND_PALETTE_DISPLAY or "^p", "Command palette: themes, keys, quit"))
    name = (screen.__class__.__name__.removesuffix("Screen") or "these").lower()
    app.push_screen(KeysHelpScreen(f"Keys of {name}", list(dict.fromkeys(rows))))


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
