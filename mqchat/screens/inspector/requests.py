"""What the inspector asks of the broker, apart from watching it: subscribe and
unsubscribe at run time, publish, clear retained messages, and export the capture.
Each request opens its dialog, acts on what the dialog returns, and says how it went."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.notifications import SeverityLevel
from textual.screen import Screen

from mqchat.core.text import display_safe
from mqchat.inspector.backend import FeedError, InspectorBackend, PublishRequest
from mqchat.inspector.export import export_jsonl
from mqchat.inspector.view import InspectorView
from mqchat.screens.inspector.clear import PASSES, Cleared, ClearRetainedScreen
from mqchat.screens.inspector.forms import ExportScreen, SubscribeScreen, UnsubscribeScreen
from mqchat.screens.inspector.publish import PublishScreen
from mqchat.widgets.inspector.render import plural, safe_topic

__all__ = ["BrokerRequests"]


class BrokerRequests:
    """The broker requests of one inspector ``screen``: their dialogs open over it,
    their notifications and workers are its own. ``backend`` carries them out;
    ``shown`` is what the screen shows (an export writes what is in view); exports go
    to ``data_dir/exports``, named by the ``clock`` (epoch seconds);
    ``subscriptions_changed`` is called when a subscription was added or removed."""

    def __init__(
        self,
        screen: Screen[None],
        backend: InspectorBackend,
        shown: InspectorView,
        *,
        data_dir: Path,
        clock: Callable[[], float],
        subscriptions_changed: Callable[[], None],
    ) -> None:
        self._screen = screen
        self._backend = backend
        self._shown = shown
        self._data_dir = data_dir
        self._clock = clock
        self._subscriptions_changed = subscriptions_changed

    def _notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None:
        # Topics, filters and broker answers end up in these texts: never read as markup.
        self._screen.notify(message, title=title, severity=severity, markup=False)

    # -- subscribe, unsubscribe -----------------------------------------------------

    def subscribe(self) -> None:
        self._screen.app.push_screen(SubscribeScreen(), self._subscribe_chosen)

    def _subscribe_chosen(self, chosen: tuple[str, int] | None) -> None:
        if chosen is None:
            return
        topic_filter, qos = chosen
        try:
            self._backend.subscribe(topic_filter, qos)
        except ValueError as exc:  # InvalidFilter included
            self._notify(str(exc), title="Cannot subscribe", severity="error")
            return
        self._notify(f"Subscribed to {safe_topic(topic_filter)} (QoS {qos}).")
        self._subscriptions_changed()

    def unsubscribe(self) -> None:
        filters = list(self._backend.subscriptions)
        if not filters:
            self._screen.notify("Nothing is subscribed.", severity="warning")
            return
        self._screen.app.push_screen(UnsubscribeScreen(filters), self._unsubscribe_chosen)

    def _unsubscribe_chosen(self, topic_filter: str | None) -> None:
        if topic_filter is None:
            return
        if self._backend.unsubscribe(topic_filter):
            self._notify(f"Unsubscribed from {safe_topic(topic_filter)}.")
        self._subscriptions_changed()

    # -- publish --------------------------------------------------------------------

    def publish(self, suggested_topic: str) -> None:
        """The publish form, with ``suggested_topic`` filled in."""
        self._screen.app.push_screen(PublishScreen(suggested_topic), self._publish_chosen)

    def _publish_chosen(self, request: PublishRequest | None) -> None:
        if request is not None:
            self._screen.run_worker(self._publish(request), group="inspector-publish")

    async def _publish(self, request: PublishRequest) -> None:
        label = self._backend.broker_label
        try:
            outcome = await self._backend.publish(request)
        except FeedError as exc:
            self._notify(str(exc), title="Not published", severity="error")
            return
        where = safe_topic(request.topic)
        if outcome.refused is not None:
            self._notify(
                f"{label} refused the message to {where}: {display_safe(outcome.refused)}",
                title="Not published",
                severity="error",
            )
            return
        used = request.qos if outcome.qos_used is None else outcome.qos_used
        note = f"Published {plural(len(request.payload), 'byte')} to {where} (QoS {used}"
        note += ", retained)." if request.retain else ")."
        if used < request.qos:
            note += (
                f" {label} takes QoS {used} at most (NATS and some "
                f"brokers have no QoS 2), so it went out at QoS {used}."
            )
        if outcome.dropped_properties:
            note += " The properties were left out: this connection is MQTT 3.1.1."
        self._notify(note)

    # -- clear retained -------------------------------------------------------------

    def clear_retained(self, suggested_topic: str) -> None:
        """The clear-retained dialog on ``suggested_topic``, or on everything under it
        when it is a level with topics below."""
        suggestion = suggested_topic
        if suggestion and self._shown.tree.topics_under(suggestion) != [suggestion]:
            suggestion = f"{suggestion}/#"
        dialog = ClearRetainedScreen(self._backend, suggestion)
        self._screen.app.push_screen(dialog, self._cleared)

    def _cleared(self, cleared: Cleared | None) -> None:
        if cleared is None:
            return
        outcome = cleared.outcome
        where = safe_topic(cleared.topic_filter)
        self._notify(f"Cleared {plural(outcome.cleared, 'retained message')} under {where}.")
        if cleared.remaining:
            self._notify(
                f"{plural(len(cleared.remaining), 'topic')} under {where} retained again after "
                f"{PASSES} passes (is something publishing them?), e.g. "
                f"{safe_topic(cleared.remaining[0])}",
                severity="warning",
            )
        for topic, reason in list(outcome.refused.items())[:3]:
            self._notify(
                f"{self._backend.broker_label} refused to clear {safe_topic(topic)}: "
                f"{display_safe(reason)}",
                severity="error",
            )

    # -- export ---------------------------------------------------------------------

    def export(self) -> None:
        """The export dialog, offering a new file named by the time."""
        stamp = datetime.fromtimestamp(self._clock()).strftime("%Y%m%d-%H%M%S")
        default = self._data_dir / "exports" / f"inspect-{stamp}.jsonl"
        count = len(self._shown.kept_in_view())
        noun = "message" if count == 1 else "messages"
        what = f"{noun} matching the view filter" if self._shown.filter else f"captured {noun}"
        self._screen.app.push_screen(ExportScreen(default, count, what), self._export_chosen)

    def _export_chosen(self, path: Path | None) -> None:
        if path is not None:
            self._screen.run_worker(self._export(path), group="inspector-export")

    async def _export(self, path: Path) -> None:
        messages = self._shown.kept_in_view()
        try:
            count = await asyncio.to_thread(export_jsonl, path, messages)
        except OSError as exc:
            self._screen.notify(
                f"{path}: {exc.strerror or exc}", title="Not exported", severity="error"
            )
            return
        self._notify(f"Exported {plural(count, 'message')} to {path}.")
