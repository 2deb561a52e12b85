"""``mqchat inspect``: the inspector on its own, no chat login, and
:func:`make_inspect_app`, the one way the CLI and the tests build it. The backend
comes from an injected factory, so nothing here imports the MQTT client."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input

from mqchat.config.settings import Settings
from mqchat.inspector.backend import InspectorBackend, InspectorFactory
from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.playback import Playback
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.playback import PlaybackScreen
from mqchat.screens.inspector.screen import InspectorScreen
from mqchat.screens.keys_help import show_keys

__all__ = [
    "DEFAULT_FILTER",
    "InspectApp",
    "StandaloneInspectorScreen",
    "make_inspect_app",
    "make_playback_app",
]

DEFAULT_FILTER = "#"
"""What ``mqchat inspect`` subscribes to when no filter is given: everything but
``$SYS`` (which a ``#`` filter never matches)."""


class StandaloneInspectorScreen(InspectorScreen):
    """The inspector as the whole app: ``q``/``escape`` quits."""

    CSS_PATH = "screens/inspector/inspector.tcss"  # relative to this module, not the screen's
    BINDINGS = [Binding("escape,q", "back", "Quit", id="inspector.back")]

    async def action_back(self) -> None:
        await self.stop_backend()
        self.app.exit()


class StandalonePlaybackScreen(PlaybackScreen):
    """A recording as the whole app: ``q``/``escape`` quits."""

    CSS_PATH = "screens/inspector/inspector.tcss"
    BINDINGS = [Binding("escape,q", "back", "Quit", id="inspector.back")]

    async def action_back(self) -> None:
        self.app.exit()


class InspectApp(App[None]):
    TITLE = "mqchat inspect"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
        Binding("f1", "keys", "All keys", id="app.keys", show=False, priority=True),
    ]

    async def action_keys(self) -> None:
        await show_keys(self)

    def __init__(
        self,
        backend: InspectorBackend,
        screen: Callable[[InspectorBackend], InspectorScreen],
        *,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.backend = backend
        self._make_screen = screen
        self.cursor_blink = cursor_blink
        self.inspector: InspectorScreen | None = None

    def on_mount(self) -> None:
        self.inspector = self._make_screen(self.backend)
        self.push_screen(self.inspector)

    async def action_quit(self) -> None:
        await self._stop()
        self.exit()

    async def _stop(self) -> None:
        if self.inspector is not None:
            await self.inspector.stop_backend()
        else:
            await self.backend.stop()

    async def on_unmount(self) -> None:
        await self._stop()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Tests and snapshots turn the blinking off so every frame is the same.
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False


def make_inspect_app(
    *,
    settings: Settings,
    connect: InspectorFactory,
    filters: Sequence[str] = (),
    qos: int = 0,
    clock: Callable[[], float] = time.time,
    store: CaptureStore | None = None,
    cursor_blink: bool = True,
    keymap: Mapping[str, str] | None = None,
    decoding: Decoding | None = None,
    formats: Mapping[str, Format] | None = None,
    remember: Callable[[str, str | None], str | None] | None = None,
    watch: WatchOptions | None = None,
    config_path: Path | None = None,
) -> InspectApp:
    """Build the standalone inspector for ``settings.broker`` (login from the URL,
    ``settings.user`` or anonymous), subscribed to ``filters`` at ``qos`` (``#`` when
    none are given). Exports go to ``settings.data_dir``. ``connect`` builds the
    backend; ``keymap`` remaps binding ids to other keys; ``decoding`` holds a Protobuf
    descriptor set for the decoded view; ``formats`` and ``remember`` are the payload
    formats set per topic and how to save one; ``watch`` the watch rules, the bell
    and how to save a rule (see :class:`InspectorScreen`); ``config_path`` is where
    publishes are saved by name (``None``: not offered)."""
    chosen = [(f, qos) for f in filters] or [(DEFAULT_FILTER, qos)]

    def screen(backend: InspectorBackend) -> InspectorScreen:
        return StandaloneInspectorScreen(
            backend,
            filters=chosen,
            data_dir=settings.data_dir,
            clock=clock,
            store=store,
            decoding=decoding,
            formats=formats,
            remember=remember,
            watch=watch,
            config_path=config_path,
        )

    app = InspectApp(connect(settings), screen, cursor_blink=cursor_blink)
    if keymap:
        app.set_keymap(dict(keymap))
    return app


def make_playback_app(
    playback: Playback,
    *,
    data_dir: Path,
    cursor_blink: bool = True,
    keymap: Mapping[str, str] | None = None,
    decoding: Decoding | None = None,
    formats: Mapping[str, Format] | None = None,
) -> InspectApp:
    """The inspector on a recording (``mqchat inspect --open FILE``): no broker; the
    scrubber moves through its time. Exports go to ``data_dir``."""

    def screen(backend: InspectorBackend) -> InspectorScreen:
        assert backend is playback
        return StandalonePlaybackScreen(
            playback, data_dir=data_dir, decoding=decoding, formats=formats
        )

    app = InspectApp(playback, screen, cursor_blink=cursor_blink)
    if keymap:
        app.set_keymap(dict(keymap))
    return app
