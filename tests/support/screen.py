"""What a Textual app under test shows, and running it until it shows something:
shared by the UI tests and the broker tests that drive a real screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot

__all__ = ["screen_text", "settle", "shown"]


def screen_text(app: App[object]) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot: Pilot[object], rounds: int = 5) -> None:
    """Let workers and posted messages run to quiet."""
    for _ in range(rounds):
        await pilot.pause()


async def shown(pilot: Pilot[None], done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``done``: for what comes on a broker's clock (its $SYS),
    not on an event the test could await."""
    async with asyncio.timeout(timeout):
        while not done():
            await pilot.pause(0.05)
