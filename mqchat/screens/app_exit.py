"""How the chat app ends: always with a goodbye to the broker first (stopping the
backend publishes ``offline`` and disconnects), whether by ctrl+q, an ``exit()`` or the
app closing, except when it crashes. The base of :class:`~mqchat.app.MqchatApp`, which
sets :attr:`ExitingApp.backend` when the user logs in."""

from __future__ import annotations

import asyncio
import logging

from rich.console import RenderableType
from textual.app import App

from mqchat.chat.backend import ChatBackend

__all__ = ["STOP_TIMEOUT", "ExitingApp"]

log = logging.getLogger("mqchat.app")
"""The app's logger, whichever module of it writes."""

STOP_TIMEOUT = 5.0
"""Seconds to wait for a clean ``offline`` before quitting anyway."""


class ExitingApp(App[None]):
    """An app that stops its chat backend before it exits."""

    def __init__(self) -> None:
        super().__init__()
        self.backend: ChatBackend | None = None
        """The running backend; ``None`` before login and once stopped."""
        self.crash: Exception | None = None
        """The error that ended the app, if one did (then ``return_code`` is 1)."""

    # Quitting: always say goodbye to the broker first.

    async def stop_backend(self) -> None:
        """Stop the backend (it publishes ``offline``); safe to call twice."""
        backend, self.backend = self.backend, None
        if backend is None:
            return
        try:
            await asyncio.wait_for(backend.stop(), STOP_TIMEOUT)
        except Exception:
            log.warning("the backend did not stop cleanly", exc_info=True)
        backend.set_listener(None)

    async def action_quit(self) -> None:
        await self.stop_backend()
        self.exit()

    def exit(
        self, result: None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        if self.backend is None:
            super().exit(result, return_code, message)
            return

        async def stop_then_exit() -> None:
            await self.stop_backend()
            super(ExitingApp, self).exit(result, return_code, message)

        self.run_worker(stop_then_exit(), group="shutdown")

    # Crashing: an error nobody handled ends the app. Textual would print a long
    # traceback and, on its way out, our clean stop would tell the broker to discard
    # the Will, leaving us "online" to everyone. Instead the backend leaves without
    # a goodbye (the Will fires), the traceback goes to the log, and the CLI prints
    # one line and exits 1 (``crash``).

    def _handle_exception(self, error: Exception) -> None:
        if self.crash is None:
            self.crash = error
            log.critical("mqchat stopped on an error", exc_info=error)
            if self.backend is not None:
                self.backend.abandon()
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        self.bell()
        self._close_messages_no_wait()

    async def on_unmount(self) -> None:
        await self.stop_backend()
