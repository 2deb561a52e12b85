"""The inspector's watch rules at work: each received message is shown to the rules
whose filter its topic matches, which alert when a value crosses a bound (once per
crossing: edge-triggered, re-armed when the value is back), when a payload changes,
or (on :meth:`Watcher.check`, from a timer) when a topic falls silent.

Cheap on the hot path: without rules :meth:`Watcher.observe` returns at once; with
rules, the rules a topic matches are found once per topic (filters compiled once)
and remembered, so a message of a topic no rule watches costs one dict look-up.
Nothing here raises on what arrives: bad JSON, a field that is not a number, NaN,
numbers of any size and hostile text are simply not readings. No I/O, no framework:
the screen takes the alerts (:meth:`Watcher.take`) and the marked topics
(:meth:`Watcher.marked`) on its own timer."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from mqchat.config.watch_rules import FieldPath, WatchRule
from mqchat.core.message import Message
from mqchat.core.topic_filter import TopicMatcher, compile_filter
from mqchat.inspector.payload import NUMBER, NUMBER_LIMIT

__all__ = [
    "CHANGE_MARK_S",
    "MAX_TRACKED",
    "Alert",
    "Watcher",
    "field_value",
    "plain_number",
    "reading",
    "shown_number",
]

Number = int | float

CHANGE_MARK_S = 10.0
"""Seconds a topic stays marked after a change alert (a crossing or a silence stays
marked until it is over)."""
MAX_TRACKED = 10_000
"""Topics one rule keeps state for at most: past it, the first tracked goes."""
MAX_ROUTES = 100_000
"""Topics whose matching rules are remembered; past it the memory starts again."""
MAX_PENDING = 1_000
"""Alerts waiting for the screen at most (a flood of changes must not pile up)."""
JSON_LIMIT = 64 * 1024
"""A payload longer than this is not parsed for a field."""
_MISSING: object = object()
_UNSEEN: object = object()
_JSON = msgspec.json.Decoder()
"""Strict JSON, 20 times as fast as the standard library's here: NaN, infinities and
numbers out of a double's range are not JSON, so such a payload has no field."""


def plain_number(text: str | bytes) -> Number | None:
    """``23.41``, ``-7``, `` 1e3 `` (a payload that is one number, JSON's or
    plain) as an ``int`` or a finite-or-infinite ``float``; anything else, NaN
    included, ``None``."""
    if len(text) > NUMBER_LIMIT:
        return None
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return None
    text = text.strip()
    if not NUMBER.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)  # exact, whatever its size (at most 256 digits)
    return float(text)  # the pattern has no nan: at worst an infinity


def field_value(payload: bytes, path: FieldPath) -> object:
    """The JSON value at ``path`` in ``payload``; ``_MISSING`` when the payload is not
    JSON (or too long) or has nothing there. A decimal step indexes an array too
    (``readings.0``); an index step names an object's key as well."""
    if len(payload) > JSON_LIMIT:
        return _MISSING
    try:
        node = _JSON.decode(payload)
    except (msgspec.DecodeError, RecursionError):
        return _MISSING
    for step in path:
        if isinstance(node, dict):
            node = node.get(str(step), _MISSING)
        elif isinstance(node, list):
            index = step if isinstance(step, int) else int(step) if step.isdecimal() else -1
            if not 0 <= index < len(node):
                return _MISSING
            node = node[index]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _as_number(value: object) -> Number | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is no reading
    if isinstance(value, str):
        return plain_number(value)
    return None


def reading(payload: bytes, path: FieldPath = ()) -> Number | None:
    """The number a rule compares: the payload itself, or the field at ``path``."""
    if not path:
        return plain_number(payload)
    return _as_number(field_value(payload, path))


def shown_number(value: Number) -> str:
    """A reading for a person: ``93.5``, ``1.2e+21``; a huge int by its magnitude."""
    try:
        return f"{value:.6g}" if isinstance(value, float) or abs(value) >= 10**15 else str(value)
    except OverflowError:
        digits = len(str(abs(value)))
        return f"{'-' if value < 0 else ''}~1e{digits - 1}"


def _change_key(value: object) -> object:
    """What a field's value is compared by: the value (and its type: 1 is not true)
    for a scalar, a digest for an object or an array."""
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value), value)
    if value is _MISSING:
        return value
    try:
        return hash(json.dumps(value, sort_keys=True))
    except (ValueError, TypeError, RecursionError):
        return object()


@dataclass(frozen=True, slots=True)
class Alert:
    """What fired: ``kind`` is ``above``, ``below``, ``changed``, ``silent`` (a topic
    stopped) or ``nothing`` (nothing at all matched ``rule.filter`` since the
    rules were set); ``value`` the reading that crossed, or the seconds of silence."""

    rule: WatchRule
    topic: str
    kind: str
    value: Number | None
    ts: float

    def text(self) -> str:
        """``temp 93.5 > 90``, ``payload changed``, ``silent for 31 s``."""
        what = self.rule.field or "value"
        if self.kind in ("above", "below") and self.value is not None:
            sign, bound = (">", self.rule.above) if self.kind == "above" else ("<", self.rule.below)
            assert bound is not None
            return f"{what} {shown_number(self.value)} {sign} {shown_number(bound)}"
        if self.kind == "changed":
            return f"{self.rule.field or 'payload'} changed"
        if self.kind == "nothing":
            return f"nothing on {self.rule.filter} for {self.value or 0:.0f} s"
        return f"silent for {self.value or 0:.0f} s"


class _Topic:
    """One rule's state of one topic."""

    __slots__ = ("high", "last", "low", "seen", "silent")

    def __init__(self, seen: float) -> None:
        self.high = False  # above the bound, alerted, not back yet
        self.low = False
        self.silent = False
        self.seen = seen
        self.last: object = _UNSEEN  # what the last payload or field was, to tell a change


class _Rule:
    __slots__ = ("any_seen", "fired", "match", "nothing", "rule", "start", "states")

    def __init__(self, rule: WatchRule, start: float) -> None:
        self.rule = rule
        self.match: TopicMatcher = compile_filter(rule.filter)
        self.states: dict[str, _Topic] = {}
        self.fired = 0
        self.start = start
        self.any_seen = False
        self.nothing = False  # the "nothing at all" alert fired and holds


class Watcher:
    """``rules`` watching what :meth:`observe` is shown; ``now`` is when silence
    starts counting (epoch seconds, the messages' clock)."""

    __slots__ = (
        "_active",
        "_changed",
        "_max_tracked",
        "_pending",
        "_routes",
        "_rules",
        "dropped",
        "fired",
        "recent",
    )

    def __init__(
        self, rules: Iterable[WatchRule] = (), *, now: float = 0.0, max_tracked: int = MAX_TRACKED
    ) -> None:
        self._max_tracked = max_tracked
        self._rules: list[_Rule] = []
        self._routes: dict[str, tuple[_Rule, ...]] = {}
        self._active: dict[str, int] = {}  # topic → crossings and silences holding
        self._changed: dict[str, float] = {}  # topic → its last change, oldest first
        self._pending: deque[Alert] = deque()
        self.recent: deque[Alert] = deque(maxlen=50)
        """The newest alerts, oldest first (for the rules view)."""
        self.fired = 0
        self.dropped = 0
        """Alerts not kept because :data:`MAX_PENDING` were waiting."""
        self.set_rules(rules, now)

    @property
    def rules(self) -> tuple[WatchRule, ...]:
        return tuple(r.rule for r in self._rules)

    def fired_by(self, index: int) -> int:
        """How many alerts rule ``index`` fired."""
        return self._rules[index].fired

    def holding(self, index: int) -> int:
        """Topics of rule ``index`` in alert now (above, below or silent)."""
        rule = self._rules[index]
        count = sum(1 for s in rule.states.values() if s.high or s.low or s.silent)
        return count + rule.nothing

    def set_rules(self, rules: Iterable[WatchRule], now: float) -> None:
        """Watch with ``rules`` from now on; a rule that was already there keeps its
        state (what it alerted stays alerted, no second alert)."""
        old = {r.rule: r for r in self._rules}
        self._rules = [old.pop(rule) if rule in old else _Rule(rule, now) for rule in rules]
        self._routes = {}
        self._active = {}
        for rule in self._rules:
            for topic, state in rule.states.items():
                held = state.high + state.low + state.silent
                if held:
                    self._active[topic] = self._active.get(topic, 0) + held
            if rule.nothing:
                self._mark(rule.rule.filter)

    # -- the hot path -----------------------------------------------------------------

    def observe(self, batch: Sequence[Message]) -> None:
        """Show the rules what arrived (topic, payload and arrival time are read)."""
        if not self._rules:
            return
        routes = self._routes
        for message in batch:
            topic = message[0]
            hit = routes.get(topic)
            if hit is None:
                hit = self._route(topic)
            for rule in hit:
                self._see(rule, topic, message[1], message[5])

    def _route(self, topic: str) -> tuple[_Rule, ...]:
        if len(self._routes) >= MAX_ROUTES:
            self._routes = {}
        hit = self._routes[topic] = tuple(r for r in self._rules if r.match(topic))
        return hit

    def _see(self, rule: _Rule, topic: str, payload: bytes, ts: float) -> None:
        state = rule.states.get(topic)
        if state is None:
            state = self._track(rule, topic, ts)
        state.seen = ts
        if state.silent:
            state.silent = False
            self._unmark(topic)
        if rule.nothing:
            rule.nothing = False
            self._unmark(rule.rule.filter)
        rule.any_seen = True
        spec = rule.rule
        above, below = spec.above, spec.below
        if above is None and below is None and not spec.changes:
            return
        value = field_value(payload, spec.path) if spec.path else _MISSING
        if above is not None or below is not None:
            number = _as_number(value) if spec.path else plain_number(payload)
            if number is not None:
                self._compare(rule, state, topic, number, ts)
        if spec.changes:
            key = _change_key(value) if spec.path else hash(payload)
            if state.last is not _UNSEEN and key != state.last:
                self._changed.pop(topic, None)
                self._changed[topic] = ts
                self._fire(rule, topic, "changed", None, ts)
            state.last = key

    def _compare(self, rule: _Rule, state: _Topic, topic: str, number: Number, ts: float) -> None:
        spec = rule.rule
        if spec.above is not None:
            if not state.high and number > spec.above:
                state.high = True
                self._mark(topic)
                self._fire(rule, topic, "above", number, ts)
            elif state.high and number <= spec.above - spec.hysteresis:
                state.high = False
                self._unmark(topic)
        if spec.below is not None:
            if not state.low and number < spec.below:
                state.low = True
                self._mark(topic)
                self._fire(rule, topic, "below", number, ts)
            elif state.low and number >= spec.below + spec.hysteresis:
                state.low = False
                self._unmark(topic)

    def _track(self, rule: _Rule, topic: str, ts: float) -> _Topic:
        states = rule.states
        if len(states) >= self._max_tracked:
            gone_topic = next(iter(states))
            gone = states.pop(gone_topic)
            for _ in range(gone.high + gone.low + gone.silent):
                self._unmark(gone_topic)
        state = states[topic] = _Topic(ts)
        return state

    # -- the timer ----------------------------------------------------------------------

    def check(self, now: float) -> None:
        """Alert on the topics silent for their rule's ``silent_s`` by ``now``, and on
        the rules that saw nothing at all that long."""
        for rule in self._rules:
            silent_s = rule.rule.silent_s
            if silent_s is None:
                continue
            limit = now - silent_s
            for topic, state in rule.states.items():
                if not state.silent and state.seen <= limit:
                    state.silent = True
                    self._mark(topic)
                    self._fire(rule, topic, "silent", now - state.seen, now)
            if not rule.any_seen and not rule.nothing and rule.start <= limit:
                rule.nothing = True
                self._mark(rule.rule.filter)
                self._fire(rule, rule.rule.filter, "nothing", now - rule.start, now)

    def take(self) -> list[Alert]:
        """The alerts fired since the last call, oldest first."""
        taken = list(self._pending)
        self._pending.clear()
        return taken

    def marked(self, now: float) -> frozenset[str]:
        """The topics to mark: in alert now, or changed in the last :data:`CHANGE_MARK_S`."""
        changed = self._changed
        limit = now - CHANGE_MARK_S
        while changed:
            topic = next(iter(changed))
            if changed[topic] > limit:
                break
            del changed[topic]
        if len(changed) > self._max_tracked:
            for topic in list(changed)[: len(changed) - self._max_tracked]:
                del changed[topic]
        return frozenset(self._active).union(changed)

    # -- inside -------------------------------------------------------------------------

    def _fire(self, rule: _Rule, topic: str, kind: str, value: Number | None, ts: float) -> None:
        rule.fired += 1
        self.fired += 1
        alert = Alert(rule.rule, topic, kind, value, ts)
        self.recent.append(alert)
        if len(self._pending) < MAX_PENDING:
            self._pending.append(alert)
        else:
            self.dropped += 1

    def _mark(self, topic: str) -> None:
        self._active[topic] = self._active.get(topic, 0) + 1

    def _unmark(self, topic: str) -> None:
        left = self._active.get(topic, 0) - 1
        if left > 0:
            self._active[topic] = left
        else:
            self._active.pop(topic, None)
