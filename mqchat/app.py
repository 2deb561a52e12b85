"""The mqchat TUI: the App that owns the backend and its connection, and
:func:`make_app`, the one way the CLI and the tests build it.

The App knows the backend only through :class:`~mqchat.chat.backend.ChatBackend` and gets
it from an injected factory, so nothing here imports the MQTT client or the store."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.widgets import Input, TextArea

from mqchat.chat.backend import ChatBackend
from mqchat.config.loader import SettingsError
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived, ConnectionChanged, Event, Notice, Rejected
from mqchat.core.model import ConnectionState, utc_now
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe
from mqchat.inspector.backend import InspectorFactory

if TYPE_CHECKING:
    from mqchat.inspector.carried import Carried
    from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.app_exit import ExitingApp
from mqchat.screens.base import Session
from mqchat.screens.conversation import ConversationScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.keys_help import show_keys
from mqchat.screens.login import LoginDefaults, LoginScreen, settings_from_form
from mqchat.screens.messages import message_for
from mqchat.screens.notifications import ElsewhereNotifier
from mqchat.screens.ui_options import UiOptions, keep_theme
from mqchat.widgets.status_bar import StatusInfo

__all__ = ["BackendFactory", "LoginDefaults", "MqchatApp", "UiOptions", "make_app"]

log = logging.getLogger(__name__)


BackendFactory = Callable[[Settings], ChatBackend]
"""Builds the backend for a login; the CLI passes the real one, tests a fake."""

FALLBACK_NOTE = "The broker does not accept MQTT 5, so mqchat connected with MQTT 3.1.1."

_FIRST_ATTEMPT_FAILED = {ConnectionState.FAILED, ConnectionState.RETRYING, ConnectionState.CLOSED}


class MqchatApp(ExitingApp):
    TITLE = "mqchat"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True  # ctrl+p: themes (saved to [ui] theme), keys, quit
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        # Shown only while waiting to reconnect (see check_action).
        Binding("ctrl+r", "reconnect", "Reconnect now", id="app.reconnect", priority=True),
        # In the footer only when it had no room for every key (widgets/footer.py).
        Binding("f1", "keys", "All keys", id="app.keys", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        defaults: LoginDefaults,
        connect: BackendFactory,
        auto_login: bool = False,
        open_peer: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        cursor_blink: bool = True,
        inspector: InspectorFactory | None = None,
        inspector_filters: Sequence[str] = (),
        ui: UiOptions | None = None,
        inspector_watch: WatchOptions | None = None,
    ) -> None:
        super().__init__()
        self.inspector_watch = inspector_watch
        """The inspector's watch rules, bell and how to save a rule (``w``)."""
        self.ui = ui or UiOptions()
        self.inspector_filters = list(inspector_filters)
        """Filters the inspector subscribes to besides the chat's namespace."""
        self.defaults = defaults
        self.connect = connect
        self.auto_login = auto_login
        self.open_peer = open_peer
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.status = StatusInfo()
        self.session: Session | None = None
        self.inspector = inspector
        """Builds the inspector's own connection (``i``); ``None``: no inspector."""
        self.settings: Settings | None = None
        """The login's settings, for the inspector to use the same broker and login."""
        self._inspector_kept: tuple[Settings, Carried] | None = None
        """What the inspector closed last captured, and on which login: opening it
        again on the same login resumes it (one bounded capture at most)."""
        self._login: LoginScreen | None = None
        self._login_pending = False
        self._told_fallback = False
        self._connecting: ChatBackend | None = None  # the backend whose run was started
        self.elsewhere = ElsewhereNotifier(
            self, self.status, backend=lambda: self.backend, notify=self.ui.notify
        )

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, lambda _screen: self.elsewhere.recount_soon())
        keep_theme(self, self.ui)
        if not self.auto_login:
            self._show_login()
            return
        try:
            settings = settings_from_form(self.defaults)
        except SettingsError as exc:
            self._show_login(error=str(exc))
            return
        # The connection starts once the chat is on the screen (see _enter_chat):
        # until then it would only compete with the first frame for the event loop.
        self._start(settings, connect=False)
        self.run_worker(self._enter_chat(), group="navigation")

    def _show_login(self, error: str | None = None) -> None:
        self._login = LoginScreen(self.status, self.defaults, error=error)
        self.push_screen(self._login)

    # Connecting

    def on_login_screen_submitted(self, message: LoginScreen.Submitted) -> None:
        if self.backend is not None or self._login is None:
            return
        try:
            backend = self._start(message.settings)
        except Exception as exc:  # a factory that cannot even build a backend
            log.exception("cannot create the backend")
            self._login.show_error(f"cannot start: {exc}")
            return
        self._login_pending = True
        self._login.show_connecting(backend.broker_label)

    def on_login_screen_cancelled(self) -> None:
        if self._login_pending and self.backend is not None:
            self._login_pending = False
            self.run_worker(self._abort_login(self.backend, None), group="navigation")

    def _start(self, settings: Settings, *, connect: bool = True) -> ChatBackend:
        backend = self.connect(settings)
        self.backend = backend
        self.settings = settings
        self.session = Session(backend=backend, status=self.status, clock=self.clock)
        self.status.identity = f"{settings.user}@{backend.broker_label}"
        self.status.connection = ConnectionChanged(ConnectionState.CONNECTING)
        self.status.rejected = 0
        self._told_fallback = False
        backend.set_listener(lambda event: self._on_backend_event(backend, event))
        if connect:
            self._connect(backend)
        return backend

    def _connect(self, backend: ChatBackend) -> None:
        """Run ``backend`` (once), unless it was let go of meanwhile."""
        if backend is self.backend and backend is not self._connecting:
            self._connecting = backend
            self.run_worker(self._run_backend(backend), name="backend", group="backend")

    async def _run_backend(self, backend: ChatBackend) -> None:
        try:
            await backend.run()
        except Exception as exc:
            log.exception("the backend stopped with an error")
            self._on_backend_event(backend, ConnectionChanged(ConnectionState.FAILED, str(exc)))
        else:
            if self._login_pending and backend is self.backend:
                self._on_backend_event(backend, ConnectionChanged(ConnectionState.CLOSED))

    def _on_backend_event(self, backend: ChatBackend, event: Event) -> None:
        """The listener: runs on the App's loop, called by the backend."""
        if backend is not self.backend:
            return  # a backend we have already let go of
        if isinstance(event, ConnectionChanged):
            self.status.connection = event
            self.refresh_bindings()  # the footer's "Reconnect now" comes and goes
            if self.status.fallback and not self._told_fallback:
                self._told_fallback = True
                self.notify(
                    display_safe(event.detail) or FALLBACK_NOTE,
                    title="Using MQTT 3.1.1",
                    severity="warning",
                    timeout=10,
                    markup=False,
                )
            if self._login_pending and event.state is ConnectionState.CONNECTED:
                self._login_pending = False
                self.run_worker(self._enter_chat(), group="navigation")
            elif self._login_pending and event.state in _FIRST_ATTEMPT_FAILED:
                self._login_pending = False
                self.run_worker(self._abort_login(backend, event.detail), group="navigation")
        elif isinstance(event, Rejected):
            self.status.rejected = max(event.total, backend.rejected_count)
        elif isinstance(event, Notice):
            self.notify(
                display_safe(event.text),
                title=display_safe(event.title),
                severity=event.severity,  # type: ignore[arg-type]
                timeout=10,
                markup=False,
            )
            return
        elif isinstance(event, ChatReceived):
            self.elsewhere.received(event.message)
        for screen in self.screen_stack:
            screen.post_message(message_for(event))

    async def _abort_login(self, backend: ChatBackend, detail: str | None) -> None:
        await self.stop_backend()
        self.session = None
        self.status.identity = ""
        self.status.connection = ConnectionChanged(ConnectionState.IDLE)
        if self._login is None:
            return
        self._login.refresh_status()
        if detail is None:
            self._login.show_cancelled()
        else:
            reason = detail or "the connection closed"
            self._login.show_error(f"could not connect to {backend.broker_label}: {reason}")

    async def _enter_chat(self) -> None:
        assert self.session is not None
        backend = self.session.backend
        try:
            await self._show_chat()
        finally:  # connect after the first frame (mqchat chat), if not yet connected
            self.call_after_refresh(self._connect, backend)

    async def _show_chat(self) -> None:
        assert self.session is not None
        friends = FriendsScreen(self.session)
        # ``mqchat chat PEER`` lands in the conversation: it is made ready (the request
        # sent) before the screens change, and both are installed in one step, so no
        # key typed meanwhile reaches the friends screen in between.
        conversation = await self._conversation_with(self.open_peer) if self.open_peer else None
        switched: Awaitable[object]
        if isinstance(self.screen, LoginScreen):
            self._login = None
            switched = self.switch_screen(friends)
        else:
            switched = self.push_screen(friends)
        mounted = self.push_screen(conversation) if conversation is not None else None
        await switched
        if mounted is not None:
            await mounted

    async def open_conversation(self, peer: str) -> None:
        """Open the conversation with ``peer``, sending them a friend request if they
        are not a contact yet (a request from them is left for the user to accept)."""
        conversation = await self._conversation_with(peer)
        if conversation is not None:
            await self.push_screen(conversation)

    async def _conversation_with(self, peer: str) -> ConversationScreen | None:
        if self.session is None:
            return None
        backend = self.session.backend
        try:
            validate_user_name(peer)
            if await backend.contact(peer) is None:
                await backend.add_contact(peer)
        except InvalidUserName as exc:
            self.notify(str(exc), title="Cannot open", severity="error", markup=False)
            return None
        return ConversationScreen(self.session, peer)

    # The inspector: its own connection, on the chat's broker and namespace.

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "inspect":
            return self.inspector is not None and self.settings is not None
        if action == "reconnect":
            return (
                self.backend is not None
                and self.status.connection.state is ConnectionState.RETRYING
            )
        return True

    async def action_keys(self) -> None:
        await show_keys(self)

    def action_reconnect(self) -> None:
        if self.backend is not None and self.status.connection.state is ConnectionState.RETRYING:
            self.backend.reconnect_now()

    def action_inspect(self) -> None:
        if self.inspector is None or self.settings is None:
            return
        settings = self.settings
        # Imported here: most sessions never open it, and every start would pay for it.
        from mqchat.screens.inspector.screen import InspectorScreen

        kept, self._inspector_kept = self._inspector_kept, None
        screen = InspectorScreen(
            self.inspector(settings),
            filters=[(f"{settings.namespace}/#", 0)]
            + [(extra, 0) for extra in self.inspector_filters],
            data_dir=settings.data_dir,
            clock=lambda: self.clock().timestamp(),
            unseal=self.unseal,
            resume=kept[1] if kept is not None and kept[0] == settings else None,
            watch=self.inspector_watch,
            config_path=self.defaults.config_path,
        )

        def closed(_result: None = None) -> None:
            # Its connection is closed; what it captured waits for the next ctrl+t.
            if self.settings == settings:
                self._inspector_kept = (settings, screen.carry_over())

        self.push_screen(screen, closed)

    def unseal(self, topic: str, payload: bytes) -> bytes | None:
        """The inspector's way to open a sealed message with this device's keys: the
        running backend's (none once it stopped). The inspector gets this callable,
        never the backend."""
        backend = self.backend
        return None if backend is None else backend.unseal(topic, payload)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Tests and snapshots turn the blinking off so every frame is the same.
        if not self.cursor_blink and isinstance(event.widget, (Input, TextArea)):
            event.widget.cursor_blink = False


def make_app(
    *,
    defaults: LoginDefaults,
    connect: BackendFactory,
    auto_login: bool = False,
    open_peer: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    cursor_blink: bool = True,
    keymap: Mapping[str, str] | None = None,
    inspector: InspectorFactory | None = None,
    inspector_filters: Sequence[str] = (),
    ui: UiOptions | None = None,
    inspector_watch: WatchOptions | None = None,
) -> MqchatApp:
    """Build the TUI. ``connect`` turns the login's settings into a backend;
    ``auto_login`` skips the form (``mqchat chat``); ``open_peer`` opens that
    conversation after login; ``keymap`` remaps binding ids to other keys;
    ``inspector`` builds the inspector's connection (without it, no ``i`` key), which
    subscribes to the chat's namespace and ``inspector_filters``."""
    app = MqchatApp(
        defaults=defaults,
        connect=connect,
        auto_login=auto_login,
        open_peer=open_peer,
        clock=clock,
        cursor_blink=cursor_blink,
        inspector=inspector,
        inspector_filters=inspector_filters,
        ui=ui,
        inspector_watch=inspector_watch,
    )
    if keymap:
        app.set_keymap(dict(keymap))
    return app
