"""The inspector's ``b``: the broker's own figures from ``$SYS/#``, subscribed for the
view and left again when it closes (unless the user subscribed to ``$SYS`` too), its
topics forgotten, so the broker's statistics do not fill the tree. A base of
:class:`~mqchat.screens.inspector.screen.InspectorScreen`, which holds the state."""

from __future__ import annotations

from collections.abc import Callable

from mqchat.inspector.backend import InspectorBackend
from mqchat.inspector.capture import Captured
from mqchat.inspector.sys_stats import SYS_FILTER, sys_rows
from mqchat.screens.inspector.broker_stats import BrokerStatsScreen
from mqchat.screens.inspector.detail_pane import InspectorDetailScreen

__all__ = ["InspectorSysScreen"]


class InspectorSysScreen(InspectorDetailScreen):
    """``b`` and what leaving it undoes."""

    backend: InspectorBackend
    clock: Callable[[], float]
    _base_received: int
    _dirty: bool
    _sys_since: float | None
    """When ``b`` subscribed to ``$SYS/#`` (``None``: it has not)."""
    _drop_sys: bool
    """``b``'s ``$SYS/#`` was left: what still comes of it is not captured."""

    def tick(self) -> None:
        raise NotImplementedError

    def _show_status(self) -> None:
        raise NotImplementedError

    def action_broker_stats(self) -> None:
        """The broker's $SYS figures (subscribing to ``$SYS/#`` the first time)."""
        if not any(f.startswith("$SYS") for f in self.backend.subscriptions):
            try:
                self.backend.subscribe(SYS_FILTER, 0)
            except ValueError as exc:
                self.notify(str(exc), title="Cannot subscribe", severity="error", markup=False)
                return
            self._sys_since = self.clock()
            self._drop_sys = False
            self._show_status()
        tree, store = self.model.tree, self.model.store

        def lookup() -> dict[str, Captured]:
            found = (store.last(topic) for topic in tree.topics_under("$SYS"))
            return sys_rows(m for m in found if m is not None)

        since = self._sys_since if self._sys_since is not None else self.clock()
        self.app.push_screen(
            BrokerStatsScreen(self.backend.broker_label, lookup, since=since, clock=self.clock),
            self._broker_stats_closed,
        )

    def _broker_stats_closed(self, _result: None = None) -> None:
        """Leave the ``$SYS/#`` that ``b`` subscribed to (not one the user chose) and
        forget what it brought: the broker's figures do not stay in the tree."""
        if self._sys_since is None or SYS_FILTER not in self.backend.subscriptions:
            return
        self._sys_since = None
        self.backend.unsubscribe(SYS_FILTER)
        self._drop_sys = True
        self._forget_sys()
        self._show_status()

    def _forget_sys(self) -> None:
        store = self.model.store
        for topic in self.model.tree.topics_under("$SYS"):
            stats = store.stats(topic)
            if stats is not None:
                self._base_received += stats.count  # the status line's count forgets them
            store.remove(topic)
        self.shown.set_filter(self.shown.filter)  # the log and a filtered tree too
        self._dirty = True
        self.tick()
