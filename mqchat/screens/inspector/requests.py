"""What the inspector asks of the broker, apart from watching it: subscribe and
unsubscribe at run time, publish (the form, or a saved or sent publish again), clear
retained messages, and export the capture.
Each request opens its dialog, acts on what the dialog returns, and says how it went."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from mqchat.core.text import display_safe
from mqchat.inspector.backend import FeedError, InspectorBackend, PublishRequest
from mqchat.inspector.capture import Captured
from mqchat.inspector.export import export_jsonl
from mqchat.inspector.publishes import Publish, PublishBook, prefill_from, publish_of
from mqchat.inspector.view import InspectorView
from mqchat.screens.inspector.clear import PASSES, Cleared, ClearRetainedScreen
from mqchat.screens.inspector.forms import ExportScreen, SubscribeScreen, UnsubscribeScreen
from mqchat.screens.inspector.publish import PublishScreen, request_from_form
from mqchat.screens.inspector.publishes import Chosen, PublishesScreen
from mqchat.widgets.inspector.render import plural, safe_topic

__all__ = ["PUBLISHES_BINDING", "BrokerRequests"]

PUBLISHES_BINDING = Binding(
    "p",
    "publishes",
    "Publishes",
    show=False,
    id="inspector.publishes",
    tooltip="Saved and sent publishes: enter resends one",
)
"""The inspector's key for :meth:`BrokerRequests.publishes`."""


class BrokerRequests:
    """The broker requests of one inspector ``screen``: their dialogs open over it,
    their notifications and workers are its own. ``backend`` carries them out;
    ``shown`` is what the screen shows (an export writes what is in view); exports go
    to ``data_dir/exports``, named by the ``clock`` (epoch seconds);
    ``subscriptions_changed`` is called when a subscription was added or removed.
    Publishes sent are kept in ``data_dir`` (the last 50), and named ones saved in
    ``config_path`` (``None``: saving is not offered)."""

    def __init__(
        self,
        screen: Screen[None],
        backend: InspectorBackend,
        shown: InspectorView,
        *,
        data_dir: Path,
        clock: Callable[[], float],
        subscriptions_changed: Callable[[], None],
        config_path: Path | None = None,
    ) -> None:
        self._screen = screen
        self._backend = backend
        self._shown = shown
        self._data_dir = data_dir
        self._clock = clock
        self._subscriptions_changed = subscriptions_changed
        self.book = PublishBook(data_dir, config_path)
        """The publishes sent (in ``data_dir``) and saved (in ``config_path``)."""

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

    def publish(self, suggested_topic: str, shown: Captured | None = None) -> None:
        """The publish form, with ``suggested_topic`` filled in, and the rest from
        ``shown`` (that topic's last message) when it is one of it."""
        prefill = prefill_from(shown) if shown is not None else None
        if prefill is not None and prefill.topic != suggested_topic:
            prefill = None
        self.edit(prefill or Publish(suggested_topic))

    def edit(self, publish: Publish) -> None:
        """The publish form holding ``publish``."""
        form = PublishScreen(prefill=publish, book=self.book)
        self._screen.app.push_screen(form, self._publish_chosen)

    def publishes(self) -> None:
        """The saved and sent publishes: one is resent, or opened in the form."""
        self._screen.app.push_screen(PublishesScreen(self.book), self._publishes_chosen)

    def _publishes_chosen(self, chosen: Chosen | None) -> None:
        if chosen is None:
            return
        if chosen.action == "edit":
            self.edit(chosen.publish)
            return
        p = chosen.publish
        try:
            request = request_from_form(
                topic=p.topic,
                payload=p.payload,
                qos=str(p.qos),
                retain=p.retain,
                content_type=p.content_type,
                user_properties=p.user_properties,
                expiry="" if p.expiry is None else str(p.expiry),
            )
        except ValueError as exc:  # a saved one edited by hand
            self._notify(str(exc), title="Not published", severity="error")
            return
        self._publish_chosen(request)

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
        failed = self.book.sent(publish_of(request))
        if failed:
            self._notify(failed, title="Not kept in the history", severity="warning")

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
