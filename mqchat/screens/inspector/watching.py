"""The inspector's watch rules and top talkers, as keys of the inspector: ``w`` lists
the rules (add, remove: saved to ``config.toml`` when the inspector can), ``t`` shows
the busiest subtrees. The rules see every batch the timer ingests (one call); their
alerts become toasts, the terminal bell (unless ``[inspector] bell = false``) and
marked rows in the tree and the log. A base of
:class:`~mqchat.screens.inspector.screen.InspectorScreen`, which calls
:meth:`InspectorWatchScreen.watch_batch` and :meth:`InspectorWatchScreen.watch_tick`."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding

from mqchat.config.watch_rules import WatchRule
from mqchat.core.message import Message
from mqchat.core.text import display_safe
from mqchat.inspector.view import ViewFilter
from mqchat.inspector.watch import Alert, Watcher
from mqchat.inspector.watch_options import WatchOptions
from mqchat.screens.inspector.sys_pane import InspectorSysScreen
from mqchat.screens.inspector.talkers import TopTalkersScreen
from mqchat.screens.inspector.watch_rules import WatchRulesScreen
from mqchat.widgets.inspector.log import MessageLogView
from mqchat.widgets.inspector.render import ALERT, plural, safe_topic
from mqchat.widgets.inspector.tree import TopicTreeView

__all__ = ["TOASTS_PER_TICK", "InspectorWatchScreen"]

TOASTS_PER_TICK = 3
"""Alerts shown one toast each per timer tick; beyond, one toast counts the rest."""
CHECK_EVERY = 1.0
"""Seconds between two looks for silent topics."""


class InspectorWatchScreen(InspectorSysScreen):
    """``w``, ``t`` and the alerts."""

    BINDINGS = [
        Binding(
            "w",
            "watch_rules",
            "Watch",
            show=False,
            id="inspector.watch",
            tooltip="Watch rules: alerts on a bound, a change, a silence",
        ),
        Binding(
            "t",
            "top_talkers",
            "Talkers",
            show=False,
            id="inspector.talkers",
            tooltip="Top talkers: msg/s and bytes/s per subtree",
        ),
    ]

    def setup_watch(self, options: WatchOptions | None) -> None:
        self.watch_options = options or WatchOptions()
        self.watcher = Watcher(self.watch_options.rules, now=self.clock())
        self._alerting: frozenset[str] = frozenset()
        self._checked: float | None = None

    def _suggested_topic(self) -> str:
        raise NotImplementedError

    def set_view_filter(self, chosen: ViewFilter) -> None:
        raise NotImplementedError

    # -- called by the screen -------------------------------------------------------

    def watch_batch(self, batch: Sequence[Message]) -> None:
        """The rules see what the timer ingested."""
        self.watcher.observe(batch)

    def watch_tick(self) -> None:
        """Look for silences (once a second), tell the alerts, mark their rows."""
        now = self.clock()
        if self._checked is None or not 0 <= now - self._checked < CHECK_EVERY:
            self._checked = now
            self.watcher.check(now)
        alerts = self.watcher.take()
        if alerts:
            self._tell(alerts)
        alerting = self.watcher.marked(now)
        if alerting != self._alerting:
            self._alerting = alerting
            self.query_one(TopicTreeView).mark(alerting)
            log = self.query_one(MessageLogView)
            log.alerting = alerting
            log.refresh()
            self.query_one(TopicTreeView).border_subtitle = (
                f"{ALERT} {len(alerting)} alerting · w" if alerting else ""
            )

    def _tell(self, alerts: list[Alert]) -> None:
        for alert in alerts[:TOASTS_PER_TICK]:
            self.notify(
                f"{safe_topic(alert.topic)}: {display_safe(alert.text())}",
                title=f"{ALERT} {display_safe(alert.rule.label)}",
                severity="warning",
                timeout=8,
                markup=False,
            )
        if len(alerts) > TOASTS_PER_TICK:
            self.notify(
                f"and {plural(len(alerts) - TOASTS_PER_TICK, 'more alert')} (w lists them)",
                title=f"{ALERT} Watch",
                severity="warning",
                timeout=8,
                markup=False,
            )
        if self.watch_options.bell:
            self.app.bell()

    # -- the keys -------------------------------------------------------------------

    def action_watch_rules(self) -> None:
        self.app.push_screen(
            WatchRulesScreen(
                self.watcher,
                add=self._add_rule,
                remove=self._remove_rule,
                suggestion=self._suggested_topic,
                saved=self.watch_options.save is not None,
                clock=self.clock,
            )
        )

    def _add_rule(self, rule: WatchRule) -> str | None:
        self.watcher.set_rules([*self.watcher.rules, rule], self.clock())
        return self._save(rule, remove=False)

    def _remove_rule(self, index: int) -> str | None:
        rules = list(self.watcher.rules)
        rule = rules.pop(index)
        self.watcher.set_rules(rules, self.clock())
        return self._save(rule, remove=True)

    def _save(self, rule: WatchRule, *, remove: bool) -> str | None:
        save = self.watch_options.save
        return None if save is None else save(rule, remove)

    def action_top_talkers(self) -> None:
        store = self.model.store

        def counts() -> list[tuple[str, int, int]]:
            return [(s.topic, s.count, s.bytes) for s in store.topics()]

        self.app.push_screen(TopTalkersScreen(counts, clock=self.clock), self._talker_chosen)

    def _talker_chosen(self, subtree: str | None) -> None:
        if subtree is not None:
            self.set_view_filter(ViewFilter(f"{subtree}/#", self.shown.filter.text))
