"""Clearing retained messages from the inspector, in two steps: a dry run lists the
topics under a filter that hold a retained message, and only after ``y`` is an empty
retained message published to exactly those topics. Then it looks again, as
``mqchat clear-retained`` does: what a device published anew meanwhile is cleared in a
second and third pass, and what is still there after that is reported."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from mqchat.core.topic_filter import InvalidFilter, validate_filter
from mqchat.inspector.backend import ClearOutcome, FeedError, InspectorBackend
from mqchat.screens.inspector.forms import InspectorDialog, _field
from mqchat.widgets.inspector.render import safe_topic

__all__ = ["ClearRetainedScreen", "Cleared"]

LISTED = 12
"""Topics listed by name before ``… and N more``."""
PASSES = 3
"""Clearing passes at most (the first on what the dry run listed)."""


@dataclass(frozen=True, slots=True)
class Cleared:
    topic_filter: str
    outcome: ClearOutcome
    """All passes together."""
    remaining: list[str]
    """Topics still retained after the last pass (published again meanwhile)."""


class ClearRetainedScreen(InspectorDialog[Cleared]):
    title_text = "Clear retained messages"
    hint = "enter looks for retained messages first (nothing is changed) · esc cancels"
    BINDINGS = [Binding("y", "clear", "Clear them", id="inspector.clear.yes")]

    def __init__(self, backend: InspectorBackend, suggestion: str = "") -> None:
        super().__init__()
        self.backend = backend
        self.suggestion = suggestion
        self.topic_filter = ""
        self.found: list[str] | None = None
        """What the dry run found; ``y`` clears exactly these."""
        self.busy = False

    def compose_fields(self) -> ComposeResult:
        yield _field(
            "Topic/filter",
            Input(self.suggestion, placeholder="a topic, or a subtree: home/#", id="c-filter"),
        )
        yield Static(id="c-found")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear":
            return bool(self.found) and not self.busy
        return True

    def _say(self, text: Text) -> None:
        self.query_one(".dialog-hint", Static).update(text)

    @on(Input.Submitted, "#c-filter")
    def look(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        topic_filter = event.value.strip()
        try:
            validate_filter(topic_filter)
        except InvalidFilter as exc:
            self.show_error(str(exc))
            return
        self.topic_filter = topic_filter
        self.found = None
        self.busy = True
        self._say(Text(f"looking for retained messages under {safe_topic(topic_filter)}…"))
        self._dry_run(topic_filter)

    @work(exclusive=True, group="clear-retained")
    async def _dry_run(self, topic_filter: str) -> None:
        try:
            found = await self.backend.find_retained(topic_filter)
        except (FeedError, InvalidFilter) as exc:
            self.busy = False
            self.show_error(str(exc))
            return
        self.busy = False
        self.found = found
        self._list(found)
        self.refresh_bindings()

    def _list(self, found: list[str]) -> None:
        where = safe_topic(self.topic_filter)
        listing = self.query_one("#c-found", Static)
        if not found:
            listing.update(Text(f"No retained messages under {where}.", style="bold"))
            self._say(Text("nothing to clear · enter looks again · esc closes", style="dim"))
            return
        text = Text(end="")
        text.append(f"{len(found):,} retained under {where}:", style="bold")
        for topic in found[:LISTED]:
            text.append(f"\n  {safe_topic(topic)}")
        if len(found) > LISTED:
            text.append(f"\n  … and {len(found) - LISTED:,} more", style="dim")
        listing.update(text)
        self.query_one("#c-filter", Input).disabled = True
        which = (
            "this one (an empty retained message)"
            if len(found) == 1
            else (f"these {len(found):,} (an empty retained message each)")
        )
        self._say(Text(f"y clears {which} · esc cancels", style="bold yellow"))

    @work(exclusive=True, group="clear-retained")
    async def action_clear(self) -> None:
        found = self.found
        if not found or self.busy:
            return
        self.busy = True
        self.refresh_bindings()
        self._say(Text(f"clearing {len(found):,}…"))
        try:
            cleared, remaining = await self._passes(found)
        except (FeedError, InvalidFilter) as exc:
            self.busy = False
            self.refresh_bindings()
            self.show_error(str(exc))
            return
        self.dismiss(Cleared(self.topic_filter, cleared, remaining))

    async def _passes(self, found: list[str]) -> tuple[ClearOutcome, list[str]]:
        done, refused = 0, dict[str, str]()
        todo = found
        for number in range(1, PASSES + 1):
            outcome = await self.backend.clear_retained(todo)
            done += outcome.cleared
            refused.update(outcome.refused)
            again = await self.backend.find_retained(self.topic_filter)
            todo = [topic for topic in again if topic not in refused]
            if not todo:
                break
            if number < PASSES:
                those = "it" if len(todo) == 1 else "those"
                again_note = f"{len(todo):,} retained again; clearing {those} (pass {number + 1})…"
                self._say(Text(again_note))
        return ClearOutcome(done, refused), todo
