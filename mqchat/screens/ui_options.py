"""``[ui]`` of the config file as the TUI uses it: the theme to start with (a choice
made with ctrl+p is saved back), and how to alert while the terminal is not
focused (see :mod:`mqchat.screens.notifications`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.theme import Theme

__all__ = ["UiOptions", "keep_theme"]


@dataclass(frozen=True)
class UiOptions:
    """The theme to start with, how to alert (``off``, ``bell``, ``osc9``,
    ``osc777``), and how to save a theme chosen with ctrl+p (returns a problem to
    show, or ``None``; without it the choice lasts until mqchat quits)."""

    theme: str | None = None
    notify: str = "off"
    save_theme: Callable[[str], str | None] | None = None


def keep_theme(app: App[Any], ui: UiOptions) -> None:
    """On mount: start with ``ui.theme`` (an unknown one is told, and the default
    kept), then save every theme the user chooses."""
    if ui.theme is not None:
        if ui.theme in app.available_themes:
            app.theme = ui.theme
        else:
            app.notify(
                f"no theme {ui.theme!r} (ctrl+p, then 'theme', lists them)",
                title="Config",
                severity="warning",
                markup=False,
            )

    saved = ui.theme

    def changed(theme: Theme) -> None:
        nonlocal saved
        save = ui.save_theme
        if save is None or theme.name == saved:
            return
        saved = theme.name
        problem = save(theme.name)
        if problem:
            app.notify(problem, title="Theme not saved", severity="warning", markup=False)

    app.theme_changed_signal.subscribe(app, changed)
