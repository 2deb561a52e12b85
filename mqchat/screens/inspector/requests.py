"""What the inspector asks of the broker, apart from watching it: subscribe and
unsubscribe at run time, publish, clear retained messages, and export the capture.
Each opens its dialog, then acts on what the dialog returns; the inspector screen
(:class:`~mqchat.screens.inspector.screen.InspectorScreen`) is built on this."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from textual import work
from textual.screen import Screen

from mqchat.core.text import display_safe
from mqchat.inspector.backend import FeedError, InspectorBackend, PublishRequest
from mqchat.inspector.capture import Captured
from mqchat.inspector.export import to_json_lines
from mqchat.inspector.view import InspectorView
from mqchat.screens.inspector.clear import PASSES, Cleared, ClearRetainedScreen
from mqchat.screens.inspector.forms import ExportScreen, SubscribeScreen, UnsubscribeScreen
from mqchat.screens.inspector.publish import PublishScreen
from mqchat.widgets.inspector.render import plural, safe_topic

__all__ = ["BrokerRequests", "export_jsonl"]


def export_jsonl(path: Path, messages: Iterable[Captured]) -> int:
    """Write ``messages`` as JSON Lines to ``path`` (its folder is made); returns how
    many. Runs in a thread: it may be a few megabytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for line in to_json_lines(messages):
            out.write(line)
            count += 1
    return count


class BrokerRequests(Screen[None]):
    """The broker requests of the inspector screen, which provides the attributes
    declared here."""

    backend: InspectorBackend
    shown: InspectorView
    data_dir: Path
    clock: Callable[[], float]
    selected: str | None
    picked: Captured | None

    def _show_status(self) -> None:
        raise NotImplementedError

    def _suggested_topic(self) -> str:
        if self.picked is not None:
            return self.picked.topic
        return self.selected or ""

    def action_subscribe(self) -> None:
        self.app.push_screen(SubscribeScreen(), self._subscribe_chosen)

    def _subscribe_chosen(self, chosen: tuple[str, int] | None) -> None:
        if chosen is None:
            return
        topic_filter, qos = chosen
        try:
            self.backend.subscribe(topic_filter, qos)
        except ValueError as exc:  # InvalidFilter included
            self.notify(str(exc), title="Cannot subscribe", severity="error", markup=False)
            return
        self.notify(f"Subscribed to {safe_topic(topic_filter)} (QoS {qos}).", markup=False)
        self._show_status()

    def action_unsubscribe(self) -> None:
        filters = list(self.backend.subscriptions)
        if not filters:
            self.notify("Nothing is subscribed.", severity="warning")
            return
        self.app.push_screen(UnsubscribeScreen(filters), self._unsubscribe_chosen)

    def _unsubscribe_chosen(self, topic_filter: str | None) -> None:
        if topic_filter is None:
            return
        if self.backend.unsubscribe(topic_filter):
            self.notify(f"Unsubscribed from {safe_topic(topic_filter)}.", markup=False)
        self._show_status()

    def action_publish(self) -> None:
        self.app.push_screen(PublishScreen(self._suggested_topic()), self._publish_chosen)

    def _publish_chosen(self, request: PublishRequest | None) -> None:
        if request is not None:
            self._publish(request)

    @work(group="inspector-publish")
    async def _publish(self, request: PublishRequest) -> None:
        try:
            outcome = await self.backend.publish(request)
        except FeedError as exc:
            self.notify(str(exc), title="Not published", severity="error", markup=False)
            return
        where = safe_topic(request.topic)
        if outcome.refused is not None:
            self.notify(
                f"{self.backend.broker_label} refused the message to {where}: "
                f"{display_safe(outcome.refused)}",
                title="Not published",
                severity="error",
                markup=False,
            )
            return
        used = request.qos if outcome.qos_used is None else outcome.qos_used
        note = f"Published {len(request.payload):,} bytes to {where} (QoS {used}"
        note += ", retained)." if request.retain else ")."
        if used < request.qos:
            note += (
                f" {self.backend.broker_label} takes QoS {used} at most (NATS and some "
                f"brokers have no QoS 2), so it went out at QoS {used}."
            )
        if outcome.dropped_properties:
            note += " The properties were left out: this connection is MQTT 3.1.1."
        self.notify(note, markup=False)

    def action_clear_retained(self) -> None:
        suggestion = self._suggested_topic()
        if suggestion and self.shown.tree.topics_under(suggestion) != [suggestion]:
            suggestion = f"{suggestion}/#" if suggestion else "#"
        self.app.push_screen(ClearRetainedScreen(self.backend, suggestion), self._cleared)

    def _cleared(self, cleared: Cleared | None) -> None:
        if cleared is None:
            return
        outcome = cleared.outcome
        where = safe_topic(cleared.topic_filter)
        done = plural(outcome.cleared, "retained message")
        self.notify(f"Cleared {done} under {where}.", markup=False)
        if cleared.remaining:
            self.notify(
                f"{plural(len(cleared.remaining), 'topic')} under {where} retained again after "
                f"{PASSES} passes (is something publishing them?), e.g. "
                f"{safe_topic(cleared.remaining[0])}",
                severity="warning",
                markup=False,
            )
        for topic, reason in list(outcome.refused.items())[:3]:
            self.notify(
                f"{self.backend.broker_label} refused to clear {safe_topic(topic)}: "
                f"{display_safe(reason)}",
                severity="error",
                markup=False,
            )

    def action_export(self) -> None:
        stamp = datetime.fromtimestamp(self.clock()).strftime("%Y%m%d-%H%M%S")
        default = self.data_dir / "exports" / f"inspect-{stamp}.jsonl"
        what = "messages matching the view filter" if self.shown.filter else "captured messages"
        count = len(self.shown.kept_in_view())
        self.app.push_screen(ExportScreen(default, count, what), self._export_chosen)

    def _export_chosen(self, path: Path | None) -> None:
        if path is not None:
            self._export(path)

    @work(group="inspector-export")
    async def _export(self, path: Path) -> None:
        messages = self.shown.kept_in_view()
        try:
            count = await asyncio.to_thread(export_jsonl, path, messages)
        except OSError as exc:
            self.notify(f"{path}: {exc.strerror or exc}", title="Not exported", severity="error")
            return
        self.notify(f"Exported {plural(count, 'message')} to {path}.", markup=False)
