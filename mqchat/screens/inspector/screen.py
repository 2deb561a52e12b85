"""The inspector screen: what is subscribed and how fast it comes on top,
the topic tree on the left, the selected topic's last message on the right, the live
message log below.

Messages never touch a widget one by one: a timer (10 times a second) takes what the
backend buffered, feeds it to the bounded model (capture store, topic tree, msg/s
meter), and redraws the few widgets once. Pausing freezes the view but not the
capture: counts, msg/s and the store keep going, as in MQTTX."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.markup import escape

from mqchat.core.model import ConnectionState
from mqchat.core.text import display_safe
from mqchat.inspector.backend import InspectorBackend
from mqchat.inspector.capture import CaptureStore
from mqchat.inspector.carried import Carried
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.export import export_jsonl
from mqchat.inspector.heap import HeapTrim
from mqchat.inspector.model import InspectorModel
from mqchat.inspector.sealed import Unseal
from mqchat.inspector.view import InspectorView, ViewFilter
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.forms import ViewFilterScreen
from mqchat.screens.inspector.keys import DECRYPT_KEYS, EXTRA_KEYS, INSPECTOR_BINDINGS
from mqchat.screens.inspector.record_key import InspectorRecordScreen
from mqchat.screens.inspector.requests import BrokerRequests
from mqchat.screens.keys_help import KeysHelpScreen, key_rows
from mqchat.widgets.footer import FittingFooter
from mqchat.widgets.inspector.detail import DetailView
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.render import StatusFigures, safe_topic
from mqchat.widgets.inspector.status import InspectorStatus
from mqchat.widgets.inspector.tree import TopicTreeView

__all__ = ["Carried", "InspectorScreen", "export_jsonl"]  # Carried: see inspector/carried.py

TICK = 0.1
"""Seconds between two takes from the backend (and at most one redraw)."""
CHUNK = 2_000
MAX_PER_TICK = 20_000
"""Messages ingested per tick at most; the rest waits in the backend's buffer, so a
key press is never queued behind a whole flood."""
BUDGET = 0.04
"""Seconds of ingesting per tick at most, for the same reason on a slow machine."""
CATCH_UP = 0.01
"""Seconds until ingesting goes on (bounded alike, not redrawn) when more waits: a
flood is taken in slices with the event loop free in between, not one per tick."""


class InspectorScreen(InspectorRecordScreen):
    """The inspector on ``backend``, which it starts on mount (subscribed to
    ``filters``: (filter, QoS) pairs) and stops when it closes. Exports go to
    ``data_dir/exports``; ``clock`` gives epoch seconds (fixed in tests); ``store``
    overrides the capture's bounds. ``unseal`` opens a sealed chat envelope with this
    device's keys (the chat app lends its backend's); without it (``mqchat inspect``)
    a sealed payload is only shown as such. ``decoding`` holds a Protobuf descriptor
    set (``mqchat inspect --descriptor``) for the decoded view; ``formats`` are the
    payload formats set per topic in an earlier run, and ``remember(topic, label)``
    saves one (``None``: removes it) and returns why it could not, if it could not;
    without it a format set with ``f`` lasts for the session. ``resume`` is what an
    inspector closed earlier carried (:meth:`carry_over`): its capture goes on here,
    with its subscriptions instead of ``filters``. ``watch``: the watch rules (``w``);
    ``config_path``: see BrokerRequests.

    ``space`` pauses the view only: messages are still counted, captured (within the
    store's bounds) and exported, and resuming shows the present at once."""

    CSS_PATH = "inspector.tcss"
    BINDINGS = INSPECTOR_BINDINGS
    EXTRA_KEYS = EXTRA_KEYS
    """Keys of the panes themselves, listed in the help."""
    DECRYPT_KEYS = DECRYPT_KEYS
    """Listed in the help when the inspector can open sealed messages (in the chat)."""

    def __init__(
        self,
        backend: InspectorBackend,
        *,
        filters: Sequence[tuple[str, int]] = (),
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        store: CaptureStore | None = None,
        unseal: Unseal | None = None,
        decoding: Decoding | None = None,
        formats: Mapping[str, Format] | None = None,
        remember: Callable[[str, str | None], str | None] | None = None,
        resume: Carried | None = None,
        watch: WatchOptions | None = None,
        config_path: Path | None = None,
    ) -> None:
        if resume is not None:
            shown = resume.shown
            filters = resume.filters
            formats = {**resume.formats, **(formats or {})}
        else:
            shown = InspectorView(InspectorModel(store, clock=clock))
        super().__init__(
            shown.model,
            shown,
            unseal=unseal,
            decoding=decoding,
            formats=formats,
            remember=remember,
        )
        self.backend = backend
        self.initial_filters = list(filters)
        self.recordings_dir = data_dir / "recordings"
        self.clock = clock
        self.setup_watch(watch)
        self.requests = BrokerRequests(
            self,
            backend,
            self.shown,
            data_dir=data_dir,
            clock=clock,
            subscriptions_changed=self._show_status,
            config_path=config_path,
        )
        """Subscribe, unsubscribe, publish, clear retained and export: the dialogs."""
        self.paused = False
        self._base_received = -resume.received if resume is not None else 0
        self._base_dropped = -resume.dropped if resume is not None else 0
        """The backend's counts when the capture was last cleared (``ctrl+l``), less
        what an inspector closed earlier counted (``resume``)."""
        self._sys_since = None
        self._drop_sys = False
        self._dirty = True
        self._last_state: ConnectionState | None = None
        self._stopped = False
        self._catching_up = False
        self.heap = HeapTrim()
        """Gives a flood's freed memory back to the system (inspector/heap.py)."""

    # -- layout and life ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield InspectorStatus(id="inspector-status")
        with Horizontal(id="inspector-main"):
            tree = TopicTreeView(id="topics")
            tree.border_title = "Topics"
            yield tree
            detail = DetailView(id="detail")
            detail.border_title = "Message"
            yield detail
        log = MessageLogView(id="log")
        log.border_title = "Messages"
        yield log
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        for topic_filter, qos in self.initial_filters:
            self.backend.subscribe(topic_filter, qos)
        self.backend.start()
        self.query_one(TopicTreeView).focus()
        self.query_one(DetailView).show_hint("Select a topic (↑ ↓, → opens) to see its messages.")
        if self.shown.filter:
            self._title_filter(self.shown.filter)
        self.tick()
        self.set_interval(TICK, self.tick)

    def carry_over(self) -> Carried:
        """What the next inspector opened resumes from (see :class:`Carried`)."""
        subscriptions = self.backend.subscriptions
        return Carried(
            shown=self.shown,
            filters=tuple(subscriptions.items()),
            received=self.backend.received - self._base_received,
            dropped=self.backend.dropped - self._base_dropped,
            formats=dict(self.formats),
        )

    async def stop_backend(self) -> None:
        if not self._stopped:
            self._stopped = True
            await self.stop_recording()
            await self.backend.stop()

    async def on_unmount(self) -> None:
        await self.stop_backend()

    # -- the timer: ingest, then redraw once ----------------------------------------

    def tick(self) -> None:
        """Take what arrived, capture it, and redraw what changed (not while paused)."""
        ingested = self._ingest()
        if ingested:
            self._dirty = True
        self.heap.after(ingested, self.shown.model.total)
        for notice in self.backend.take_notices():
            self.notify(notice, title="Broker", severity="warning", markup=False)
        self._watch_connection()
        self.watch_tick()
        self._show_status()
        if self._dirty and not self.paused:
            self._dirty = False
            self._show_view()

    def _ingest(self) -> int:
        take, ingest = self.backend.take, self.shown.ingest
        deadline = time.perf_counter() + BUDGET
        done = 0
        drop_sys = self._drop_sys and not any(f.startswith("$") for f in self.backend.subscriptions)
        while done < MAX_PER_TICK and time.perf_counter() < deadline:
            batch = take(CHUNK)
            if not batch:
                break
            if len(batch) == CHUNK and not self._catching_up:
                self._catching_up = True  # more may wait beyond this tick's bounds
                self.set_timer(CATCH_UP, self._catch_up)
            if drop_sys:  # stragglers sent before the broker took the unsubscribe
                kept = [m for m in batch if not m.topic.startswith("$SYS")]
                self._base_received += len(batch) - len(kept)  # not counted either
                batch = kept
            self.record(batch)  # the flight recorder (r), when on
            done += ingest(batch)
            self.watch_batch(batch)
        return done

    def _catch_up(self) -> None:
        self._catching_up = False
        if self._ingest():
            self._dirty = True  # drawn on the next tick

    def _watch_connection(self) -> None:
        connection = self.backend.connection
        if connection.state is self._last_state:
            return
        self._last_state = connection.state
        if connection.state is ConnectionState.FAILED:
            self.notify(
                display_safe(connection.detail) or "the connection failed",
                title=f"Cannot inspect {self.backend.broker_label}",
                severity="error",
                timeout=15,
                markup=False,
            )

    def _show_status(self) -> None:
        store = self.model.store
        self.query_one(InspectorStatus).show(
            StatusFigures(
                broker=self.backend.broker_label,
                subscriptions=dict(self.backend.subscriptions),
                total=self.backend.received - self._base_received,
                rate=self.model.rate(self.clock()),
                paused=self.paused,
                connection=self.backend.connection,
                dropped=self.backend.dropped - self._base_dropped,
                topics=store.topic_count,
                max_topics=store.max_topics,
                forgotten_topics=store.forgotten_topics,
                forgotten_messages=store.forgotten_messages,
                recording=self.recording,
            )
        )

    def _show_view(self) -> None:
        self._drop_gone_selection()
        self.query_one(TopicTreeView).show(self.shown.tree)
        self.query_one(MessageLogView).show(self.shown.log_rows)
        self._show_detail()

    def _drop_gone_selection(self) -> None:
        """A selected topic (or picked message) that left the view (the filter,
        ``ctrl+l``, the ``$SYS`` of ``b`` going) is no longer shown in the detail."""
        tree, gone = self.shown.tree, False
        if self.picked is not None and not tree.count(self.picked.topic):
            self.picked, gone = None, True
        if self.selected is not None and not tree.count(self.selected):
            self.selected, gone = None, True
            self.query_one(TopicTreeView).selected = None
        if gone and self.picked is None and self.selected is None:
            detail = self.query_one(DetailView)
            detail.border_title = "Message"
            detail.show_hint("Select a topic (↑ ↓, → opens) to see its messages.")

    # -- actions ----------------------------------------------------------------------

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._show_status()
        if not self.paused and self._dirty:
            self._dirty = False
            self._show_view()

    def action_clear_capture(self) -> None:
        """Forget what was captured; the status line counts from 0 again."""
        self._base_received = self.backend.received
        self._base_dropped = self.backend.dropped
        self.shown.clear()
        self.sealed.forget()
        self.picked = None
        self._dirty = True
        self.tick()
        self.query_one(DetailView).show_hint("Cleared: counting again from 0.")

    def action_subscribe(self) -> None:
        self.requests.subscribe()

    def action_unsubscribe(self) -> None:
        self.requests.unsubscribe()

    def action_publish(self) -> None:
        self.requests.publish(self._suggested_topic(), self.shown_message())

    def action_publishes(self) -> None:
        self.requests.publishes()

    def action_clear_retained(self) -> None:
        self.requests.clear_retained(self._suggested_topic())

    def action_export(self) -> None:
        self.requests.export()

    def _suggested_topic(self) -> str:
        """What a dialog offers first: the picked message's topic, else the selected."""
        if self.picked is not None:
            return self.picked.topic
        return self.selected or ""

    def action_help(self) -> None:
        extra: tuple[tuple[str, str], ...] = self.EXTRA_KEYS
        if self.sealed.unseal is not None:
            extra += self.DECRYPT_KEYS
        self.app.push_screen(KeysHelpScreen("Inspector keys", key_rows(self), extra))

    def action_filter(self) -> None:
        self.app.push_screen(ViewFilterScreen(self.shown.filter), self._filter_chosen)

    def _filter_chosen(self, chosen: ViewFilter | None) -> None:
        if chosen is None:
            return
        self.set_view_filter(chosen)

    def set_view_filter(self, chosen: ViewFilter) -> None:
        """Show only what ``chosen`` lets through (the capture is not touched)."""
        self.shown.set_filter(chosen)
        self._title_filter(chosen)
        self._dirty = True
        self.tick()

    def _title_filter(self, chosen: ViewFilter) -> None:
        shown = escape(display_safe(chosen.describe()))  # a title is markup: keep it literal
        self.query_one(MessageLogView).border_title = (
            f"Messages · filter: {shown}" if chosen else "Messages"
        )
        self.query_one(TopicTreeView).border_title = (
            f"Topics · {escape(safe_topic(chosen.topic))}" if chosen.topic else "Topics"
        )

    async def action_back(self) -> None:
        await self.stop_backend()
        self.dismiss()
