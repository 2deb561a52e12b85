"""The key footer, cut to fit the terminal: when the keys do not fit on one line,
the least useful go first (the rightmost ones that are not essential), the ways
out (back, quit) and to the full list (help) always stay, and ``f1 All keys`` says
where the others went.

Textual's own :class:`~textual.widgets.Footer` lays every key out in a grid and lets
the terminal's edge cut whatever is last, which is ``^q Quit``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["ESSENTIAL_ACTIONS", "MORE_KEY", "FittingFooter", "fit_keys"]

ESSENTIAL_ACTIONS = frozenset({"quit", "app.quit", "back", "help", "keys", "app.keys"})
"""Actions whose keys the footer never drops."""
MORE_KEY = ("f1", "All keys", "app.keys")
"""What the footer adds when it dropped keys (the App binds ``f1`` to its key list)."""


def fit_keys(
    items: list[tuple[str, str, str]], width: int, *, compact: bool
) -> tuple[list[int], bool]:
    """Which of ``items`` (key display, description, action) fit in ``width`` cells,
    as indices in their order, and whether any was dropped. Essential ones stay
    (:data:`ESSENTIAL_ACTIONS`); the others are dropped from the right, making room
    for :data:`MORE_KEY` too."""

    def cells(key: str, description: str) -> int:
        # " key description " (padding) or "key description" + a gutter (compact)
        return Text(key).cell_len + Text(description).cell_len + (2 if compact else 3)

    sizes = [cells(key, description) for key, description, _ in items]
    kept = list(range(len(items)))
    if sum(sizes) <= width:
        return kept, False
    room = width - cells(MORE_KEY[0], MORE_KEY[1])
    for i in reversed(range(len(items))):
        if sum(sizes[k] for k in kept) <= room:
            break
        if items[i][2] not in ESSENTIAL_ACTIONS:
            kept.remove(i)
    return kept, True


class FittingFooter(Footer):
    """A :class:`~textual.widgets.Footer` that drops keys rather than lose the last
    ones off the edge (see :func:`fit_keys`)."""

    _laid_out_for = 0
    """The width the keys were last chosen for."""
    _recompose_due = False
    """A recompose is asked for and will run after the next refresh."""
    _stale = False
    """The bindings changed while this footer's screen was not the one shown."""

    def __init__(self, *, compact: bool = False) -> None:
        # ctrl+p is listed by f1 (and in the README): not worth a footer place.
        super().__init__(compact=compact, show_command_palette=False)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        if len(keys) != len(widgets):  # grouped keys: leave Textual's layout alone
            yield from widgets
            return
        width = self.size.width or self.app.size.width
        self._laid_out_for = width
        items = [(k.key_display, k.description, k.action) for k in keys]
        kept, dropped = fit_keys(items, width, compact=self.compact)
        shown: list[Widget] = [keys[i] for i in kept]
        if dropped and not any(keys[i].action in {"help", "keys"} for i in kept):
            key, description, action = MORE_KEY
            more = FooterKey(key, key, description, action).data_bind(compact=Footer.compact)
            shown.append(more)
        self.styles.grid_size_columns = len(shown)
        yield from shown

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._laid_out_for = event.size.width
            self.refresh(recompose=True)

    # Textual's footer rebuilds every key after each change of the bindings, one
    # rebuild per change, on every screen of the stack, hidden or not: a dozen
    # rebuilds before ``mqchat chat PEER`` shows its first messages. Here changes
    # that come together make one rebuild, and a hidden screen's footer waits until
    # its screen is shown again.

    def on_mount(self) -> None:
        super().on_mount()
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def on_unmount(self) -> None:
        super().on_unmount()
        self.app.screen_change_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self.app.screen is not screen:
            self._stale = True
        elif not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._recompose_due = False
        await self.recompose()

    def _screen_changed(self, screen: Screen[object]) -> None:
        if self._stale and self.is_attached and screen is self.screen:
            self._stale = False
            self.bindings_changed(screen)
