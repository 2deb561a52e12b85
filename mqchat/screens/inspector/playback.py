"""The inspector on a recording (``mqchat inspect --open FILE``): the same tree, log
and detail as live, showing what had been captured up to the scrubber's cursor.
Keys move the cursor by 10 s or a minute, to the start or the end, or play the
recording at its pace (faster with ``+``); what talks to a broker is switched off."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding

from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.playback import Playback
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.scrubber import Scrubber, ScrubberFigures

__all__ = ["PlaybackScreen"]

_SPEEDS = (1.0, 2.0, 5.0, 10.0, 60.0)
_BROKER_ACTIONS = frozenset(
    {"subscribe", "unsubscribe", "publish", "clear_retained", "broker_stats", "pause", "record"}
)
"""Live-only keys, off (and out of the footer) on a recording."""


class PlaybackScreen(InspectorScreen):
    """The inspector over ``playback``. ``space`` plays from the cursor at the
    recording's pace (``+`` faster, ``-`` slower) instead of pausing the view."""

    BINDINGS = [
        Binding(
            "left_square_bracket",
            "step(-10)",
            "-10 s",
            id="playback.back10",
            tooltip="Recording: back 10 s",
        ),
        Binding(
            "right_square_bracket",
            "step(10)",
            "+10 s",
            id="playback.fwd10",
            tooltip="Recording: forward 10 s",
        ),
        Binding(
            "left_curly_bracket",
            "step(-60)",
            "-1 min",
            id="playback.back60",
            tooltip="Recording: back a minute",
        ),
        Binding(
            "right_curly_bracket",
            "step(60)",
            "+1 min",
            id="playback.fwd60",
            tooltip="Recording: forward a minute",
        ),
        Binding("g", "jump_start", "Start", id="playback.start", tooltip="Recording: its start"),
        Binding("G", "jump_end", "End", id="playback.end", tooltip="Recording: its end"),
        Binding(
            "space",
            "play",
            "Play",
            id="playback.play",
            tooltip="Recording: play from here at its pace, or stop",
        ),
        Binding(
            "plus",
            "speed(1)",
            "Faster",
            show=False,
            id="playback.faster",
            tooltip="Recording: play faster (1×, 2×, 5×, 10×, 60×)",
        ),
        Binding(
            "minus",
            "speed(-1)",
            "Slower",
            show=False,
            id="playback.slower",
            tooltip="Recording: play slower",
        ),
    ]

    def __init__(
        self,
        playback: Playback,
        *,
        data_dir: Path,
        decoding: Decoding | None = None,
        formats: Mapping[str, Format] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            playback,
            data_dir=data_dir,
            clock=lambda: playback.cursor,
            decoding=decoding,
            formats=formats,
            **kwargs,
        )
        self.playback = playback
        self.playing = False
        self.speed_index = 0
        self._played_at = time.monotonic()

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Scrubber(self.playback.count_between, id="scrubber")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _BROKER_ACTIONS:
            return False
        return super().check_action(action, parameters)

    # -- the cursor -------------------------------------------------------------------

    def tick(self) -> None:
        if self.playing:
            now = time.monotonic()
            ahead = (now - self._played_at) * _SPEEDS[self.speed_index]
            self._played_at = now
            self._seek(self.playback.cursor + ahead)
            if self.playback.cursor >= self.playback.last:
                self.playing = False
        super().tick()
        self._show_scrubber()

    def _seek(self, when: float) -> None:
        if self.playback.seek(when):  # back in time: capture again from the start
            self._base_received = 0
            self.shown.clear()
            self.sealed.forget()
            self.picked = None
        self._dirty = True

    def _move(self, when: float) -> None:
        self._seek(when)
        self.tick()

    def action_step(self, seconds: float) -> None:
        self._move(self.playback.cursor + seconds)

    def action_jump_start(self) -> None:
        self._move(self.playback.first)

    def action_jump_end(self) -> None:
        self.playing = False
        self._move(self.playback.last)

    def action_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.playback.cursor >= self.playback.last:
            self._seek(self.playback.first)  # at the end: play from the start
        self._played_at = time.monotonic()
        self.tick()

    def action_speed(self, change: int) -> None:
        self.speed_index = min(max(self.speed_index + change, 0), len(_SPEEDS) - 1)
        self.notify(f"playing at {_SPEEDS[self.speed_index]:g}×", timeout=2)
        self._show_scrubber()

    def _show_scrubber(self) -> None:
        playback = self.playback
        self.query_one(Scrubber).show(
            ScrubberFigures(
                first=playback.first,
                last=playback.last,
                cursor=playback.cursor,
                shown=playback.received + playback.pending,
                total=len(playback.messages),
                playing=self.playing,
                speed=_SPEEDS[self.speed_index],
            )
        )

    def on_mount(self) -> None:
        self.call_later(self._hint)  # after the inspector's own mount, which sets one too

    def _hint(self) -> None:
        self.query_one(DetailView).show_hint(
            "A recording, offline: [ ] move 10 s, { } a minute, g / G the start / end, "
            "space plays (+ - its speed). Select a topic (↑ ↓, → opens) to see its messages."
        )
