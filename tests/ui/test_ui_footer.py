"""The key footer rebuilds once for changes that come together, and a screen under
another one catches up when it is shown again: the keys it lists are never stale."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from mqchat.widgets.footer import FittingFooter


class CountingFooter(FittingFooter):
    """Counts how often its keys are built."""

    builds = 0

    def compose(self) -> ComposeResult:
        self.builds += 1
        yield from super().compose()


class KeyedScreen(Screen[None]):
    BINDINGS = [Binding("a", "alpha", "Alpha"), Binding("b", "beta", "Beta")]

    def __init__(self) -> None:
        super().__init__()
        self.beta_allowed = True

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield CountingFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.beta_allowed if action == "beta" else True

    def action_alpha(self) -> None:
        pass

    def action_beta(self) -> None:
        pass


class Top(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Static("top")
        yield FittingFooter()


class FooterApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(KeyedScreen())


def shown_keys(screen: Screen[Any]) -> list[str]:
    return [key.description for key in screen.query_one(FittingFooter).query(FooterKey)]


async def test_changes_that_come_together_make_one_rebuild() -> None:
    app = FooterApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KeyedScreen)
        assert shown_keys(screen) == ["Alpha", "Beta"]
        footer = screen.query_one(CountingFooter)
        built_before = footer.query(FooterKey).first()
        builds = footer.builds
        for _ in range(5):
            screen.refresh_bindings()
        screen.beta_allowed = False
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        keys = list(footer.query(FooterKey))
        assert [k.description for k in keys] == ["Alpha"]
        assert built_before not in keys
        assert footer.builds == builds + 1  # six changes, one rebuild


async def test_a_hidden_screen_rebuilds_its_keys_when_it_is_shown_again() -> None:
    app = FooterApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        below = app.screen
        assert isinstance(below, KeyedScreen)
        await app.push_screen(Top())
        await pilot.pause()
        keys_before = list(below.query_one(FittingFooter).query(FooterKey))
        below.beta_allowed = False
        below.refresh_bindings()
        await pilot.pause()
        # Not rebuilt while hidden...
        assert list(below.query_one(FittingFooter).query(FooterKey)) == keys_before
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        # ...but shown right once it is on top again.
        assert app.screen is below
        assert shown_keys(below) == ["Alpha"]
