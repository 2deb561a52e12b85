"""The time scrubber of a recording opened offline: one line with the cursor's
clock time, a bar over the recording's whole span whose cells show how many
messages arrived then (▁ to █), the part before the cursor bright, and where the
cursor is (``+02:31 / 05:00``, messages shown of all)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from mqchat.widgets.inspector.render import clock_ms

__all__ = ["Scrubber", "ScrubberFigures", "duration", "scrubber_line"]

_LEVELS = "▁▂▃▄▅▆▇█"
Density = Callable[[float, float], int]
"""Messages that arrived in [since, until)."""


@dataclass(frozen=True, slots=True)
class ScrubberFigures:
    first: float
    last: float
    cursor: float
    shown: int
    """Messages at or before the cursor."""
    total: int
    playing: bool = False
    speed: float = 1.0


def duration(seconds: float) -> str:
    """``02:31``, or ``1:02:31`` from an hour up."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def scrubber_line(figures: ScrubberFigures, width: int, density: Density) -> Text:
    """``‖ 14:02:11.345 ▁▂▅█▇▃──▁ +02:31 / 05:00 · 1,234 of 2,000 msgs``."""
    span = max(figures.last - figures.first, 0.0)
    state = f"▶ {figures.speed:g}×" if figures.playing else "‖"
    head = f"{state} {clock_ms(figures.cursor)} "
    tail = (
        f" +{duration(figures.cursor - figures.first)} / {duration(span)}"
        f" · {figures.shown:,} of {figures.total:,} msgs"
    )
    text = Text(head, style="bold", no_wrap=True, end="")
    cells = max(width - cell_len(head) - cell_len(tail), 0)
    if cells:
        text.append_text(_bar(figures, cells, span, density))
    text.append(tail, style="dim")
    return text


def _bar(figures: ScrubberFigures, cells: int, span: float, density: Density) -> Text:
    step = span / cells if span else 0.0
    counts = [
        density(figures.first + i * step, figures.first + (i + 1) * step) if step else 0
        for i in range(cells)
    ]
    if step:  # the last cell holds the last message too
        counts[-1] += density(figures.last, figures.last + 1.0)
    else:
        counts[-1] = figures.total
    top = max(counts) or 1
    at = cells - 1 if not step else min(int((figures.cursor - figures.first) / step), cells - 1)
    bar = Text(no_wrap=True, end="")
    for i, count in enumerate(counts):
        glyph = _LEVELS[min(count * len(_LEVELS) // (top + 1), len(_LEVELS) - 1)] if count else "─"
        if i == at:
            bar.append(glyph, style="bold reverse")
        else:
            bar.append(glyph, style="cyan" if i < at else "dim")
    return bar


class Scrubber(Widget):
    """The scrubber line; the screen calls :meth:`show` on its timer."""

    DEFAULT_CSS = """
    Scrubber {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, density: Density, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.density = density
        self.figures: ScrubberFigures | None = None

    def show(self, figures: ScrubberFigures) -> None:
        if figures != self.figures:
            self.figures = figures
            self.refresh()

    def render(self) -> RenderableType:
        if self.figures is None:
            return ""
        return scrubber_line(self.figures, self.content_size.width, self.density)
