"""What the inspector's watch rules start with, kept apart from the screen so that
the chat can hand them over without loading the inspector before its first frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mqchat.config.watch_rules import WatchRule

__all__ = ["WatchOptions"]


@dataclass(frozen=True)
class WatchOptions:
    """The rules to start with, whether an alert rings the bell, and how to save a
    rule added (``save(rule, False)``) or removed (``save(rule, True)``): it returns
    why it could not, or ``None``. Without ``save`` a change lasts for the session."""

    rules: tuple[WatchRule, ...] = ()
    bell: bool = True
    save: Callable[[WatchRule, bool], str | None] | None = None
