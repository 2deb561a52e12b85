"""The inspector's watch rules as ``config.toml`` declares them, one
``[[inspector.watch]]`` table each::

    [[inspector.watch]]
    name = "boiler"            # optional: what the alert calls it
    filter = "plant/+/boiler"  # the topics it watches (wildcards allowed)
    field = "temp"             # a JSON path (a.b[0]); absent: the payload is a number
    above = 90                 # alert when the value goes above 90 ...
    below = 10                 # ... or below 10
    hysteresis = 0.5           # re-arm only once back by this much (default 0)
    changes = true             # alert when the payload (or the field) changes
    silent_s = 30              # alert when a topic says nothing for 30 s

Checked here, once, into :class:`WatchRule`, so that a mistake in the file is one
line naming the rule and the key; the evaluator
(:mod:`mqchat.inspector.watch`) trusts what it gets."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from mqchat.config.toml_shown import shown
from mqchat.core.topic_filter import InvalidFilter, compile_filter

__all__ = [
    "MAX_SILENT_S",
    "RULE_KEYS",
    "FieldPath",
    "WatchRule",
    "check_watch_rule",
    "parse_field",
]

FieldPath = tuple[str | int, ...]
"""A JSON path as steps: a ``str`` names an object's key, an ``int`` an array index."""

RULE_KEYS = ("name", "filter", "field", "above", "below", "hysteresis", "changes", "silent_s")
MAX_SILENT_S = 7 * 24 * 3600
"""The longest silence a rule waits for: a week."""
MAX_NAME = 64
_STEP = re.compile(r'\.?([^.\[\]"]+)|\[(\d{1,9})\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_field(text: str) -> FieldPath:
    """``temp`` → ``("temp",)``, ``a.b[0]`` → ``("a", "b", 0)``, ``a["x.y"]`` →
    ``("a", "x.y")``; ``readings.0`` (the sparkline's spelling) works too. Raises
    ``ValueError`` saying where the path goes wrong."""
    steps: list[str | int] = []
    at = 0
    while at < len(text):
        match = _STEP.match(text, at)
        if match is None or (at == 0 and text.startswith(".")):
            raise ValueError(f"the field {text!r} is not a JSON path (like temp or a.b[0])")
        name, index, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(json.loads(quoted))
        at = match.end()
    if not steps:
        raise ValueError("the field is empty: leave it out for a payload that is a number")
    return tuple(steps)


def _bound(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class WatchRule:
    """One rule: on topics matching ``filter``, alert when the number (the payload,
    or its JSON ``field``) goes above ``above`` or below ``below`` (once per
    crossing: it re-arms when the value is back by ``hysteresis``), when the payload
    (or the field) ``changes``, or when a topic is silent for ``silent_s``
    seconds."""

    filter: str
    field: str | None = None
    above: float | None = None
    below: float | None = None
    changes: bool = False
    silent_s: float | None = None
    hysteresis: float = 0
    name: str | None = None
    path: FieldPath = dataclass_field(default=(), compare=False, repr=False)
    """``field`` parsed (filled in by :func:`check_watch_rule`)."""

    @property
    def label(self) -> str:
        """Its name, else what it watches: ``plant/+/boiler temp``."""
        if self.name:
            return self.name
        return f"{self.filter} {self.field}" if self.field else self.filter

    def describe(self) -> str:
        """``> 90 or < 10 · changes · silent 30 s``."""
        parts = []
        bounds = []
        if self.above is not None:
            bounds.append(f"> {_bound(self.above)}")
        if self.below is not None:
            bounds.append(f"< {_bound(self.below)}")
        if bounds:
            parts.append(" or ".join(bounds))
        if self.hysteresis:
            parts.append(f"± {_bound(self.hysteresis)}")
        if self.changes:
            parts.append("changes")
        if self.silent_s is not None:
            parts.append(f"silent {_bound(self.silent_s)} s")
        return " · ".join(parts)

    def table(self) -> dict[str, object]:
        """The rule as a ``[[inspector.watch]]`` table, keys in the usual order."""
        values: dict[str, object] = {
            "name": self.name,
            "filter": self.filter,
            "field": self.field,
            "above": self.above,
            "below": self.below,
            "hysteresis": self.hysteresis or None,
            "changes": self.changes or None,
            "silent_s": self.silent_s,
        }
        return {key: value for key, value in values.items() if value is not None}


def _number(table: Mapping[str, object], key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{key}: expected a finite number, got {value}")
    if isinstance(value, int) and abs(value) > 2**63:
        raise ValueError(f"{key}: {value} is too large a bound")
    return value


def check_watch_rule(table: object) -> WatchRule:
    """One ``[[inspector.watch]]`` table as a :class:`WatchRule`; ``ValueError``
    starting with the key at fault otherwise."""
    if not isinstance(table, Mapping):
        raise ValueError(f"expected a table (filter = ..., above = ...), got {shown(table)}")
    unknown = [str(key) for key in table if key not in RULE_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(RULE_KEYS)})")
    topic_filter = table.get("filter")
    if not isinstance(topic_filter, str):
        raise ValueError(
            f'filter: expected a topic filter such as "home/#", got {shown(topic_filter)}'
        )
    try:
        compile_filter(topic_filter)
    except InvalidFilter as exc:
        raise ValueError(f"filter: {exc}") from None
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= MAX_NAME):
        raise ValueError(f"name: expected a text of 1 to {MAX_NAME} characters, got {shown(name)}")
    field_text = table.get("field")
    path: FieldPath = ()
    if field_text is not None:
        if not isinstance(field_text, str):
            raise ValueError(f'field: expected a JSON path such as "temp", got {shown(field_text)}')
        try:
            path = parse_field(field_text)
        except ValueError as exc:
            raise ValueError(f"field: {exc}") from None
    above, below = _number(table, "above"), _number(table, "below")
    if above is not None and below is not None and above < below:
        raise ValueError(
            f"above ({_bound(above)}) is under below ({_bound(below)}): every value would alert"
        )
    hysteresis = _number(table, "hysteresis") or 0
    if hysteresis < 0:
        raise ValueError(f"hysteresis: expected 0 or more, got {_bound(hysteresis)}")
    changes = table.get("changes", False)
    if not isinstance(changes, bool):
        raise ValueError(f"changes: expected true or false, got {shown(changes)}")
    silent_s = _number(table, "silent_s")
    if silent_s is not None and not 1 <= silent_s <= MAX_SILENT_S:
        raise ValueError(f"silent_s: expected seconds from 1 to {MAX_SILENT_S}, got {silent_s}")
    if above is None and below is None and not changes and silent_s is None:
        raise ValueError("says nothing to watch for: give above, below, changes = true or silent_s")
    return WatchRule(
        filter=topic_filter,
        field=field_text,
        above=above,
        below=below,
        changes=changes,
        silent_s=silent_s,
        hysteresis=hysteresis,
        name=name,
        path=path,
    )
