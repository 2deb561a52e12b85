"""Top talkers: which subtrees (``home``, ``home/kitchen``…, the first 1 to
:data:`MAX_DEPTH` levels of a topic) bring the most messages and bytes per second
lately. Computed from the capture's running counts per topic, sampled about once a
second while the view is open, so the ingest path pays nothing for it; each sample
sums the topics into their deepest prefixes, and a shallower depth adds those up."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MAX_DEPTH", "Talker", "TalkerMeter", "prefix"]

MAX_DEPTH = 3
"""Levels a subtree is told apart by at most."""
WINDOW = 5.0
"""Seconds the rates are measured over."""
_MAX_CACHED = 200_000


def prefix(topic: str, depth: int) -> str:
    """The first ``depth`` levels of ``topic`` (all of it when it has fewer)."""
    cut = -1
    for _ in range(depth):
        cut = topic.find("/", cut + 1)
        if cut < 0:
            return topic
    return topic[:cut]


@dataclass(frozen=True, slots=True)
class Talker:
    """One subtree: messages and bytes per second over the window, and the topics
    with messages under it."""

    prefix: str
    rate: float
    byte_rate: float
    topics: int


class _Sample:
    __slots__ = ("at", "totals")

    def __init__(self, at: float, totals: dict[str, list[int]]) -> None:
        self.at = at
        self.totals = totals  # deepest prefix → [messages, bytes, topics]


class TalkerMeter:
    """Samples of running counts; rates between the oldest sample in the window and
    the newest. A count that went down (a topic forgotten, the capture cleared)
    counts as no traffic, never as negative."""

    __slots__ = ("_prefixes", "_samples", "window")

    def __init__(self, window: float = WINDOW) -> None:
        if window <= 0:
            raise ValueError("the window must be positive")
        self.window = window
        self._samples: deque[_Sample] = deque()
        self._prefixes: dict[str, str] = {}  # topic → its deepest prefix

    def sample(self, now: float, counts: Iterable[tuple[str, int, int]]) -> None:
        """Take the running (topic, messages, bytes) counts at ``now``."""
        prefixes = self._prefixes
        if len(prefixes) > _MAX_CACHED:
            prefixes.clear()
        totals: dict[str, list[int]] = {}
        for topic, messages, size in counts:
            key = prefixes.get(topic)
            if key is None:
                key = prefixes[topic] = prefix(topic, MAX_DEPTH)
            total = totals.get(key)
            if total is None:
                totals[key] = [messages, size, 1]
            else:
                total[0] += messages
                total[1] += size
                total[2] += 1
        samples = self._samples
        if samples and now <= samples[-1].at:
            samples.pop()  # a clock that did not move: the newest counts replace it
        samples.append(_Sample(now, totals))
        while len(samples) > 2 and samples[1].at <= now - self.window:
            samples.popleft()

    @property
    def ready(self) -> bool:
        """Two samples at least: rates can be told."""
        return len(self._samples) >= 2

    def top(self, depth: int, limit: int = 100) -> list[Talker]:
        """The ``limit`` busiest subtrees of ``depth`` levels, by msg/s, then bytes/s,
        then name; with fewer than two samples every rate is 0."""
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth is 1 to {MAX_DEPTH}")
        if not self._samples:
            return []
        first, last = self._samples[0], self._samples[-1]
        span = last.at - first.at
        grouped: dict[str, list[float]] = {}
        before = first.totals
        for key, (messages, size, topics) in last.totals.items():
            old = before.get(key) if span > 0 else None
            gained = max(messages - old[0], 0) if old is not None else messages if span > 0 else 0
            grown = max(size - old[1], 0) if old is not None else size if span > 0 else 0
            name = key if depth == MAX_DEPTH else prefix(key, depth)
            group = grouped.get(name)
            if group is None:
                grouped[name] = [gained, grown, topics]
            else:
                group[0] += gained
                group[1] += grown
                group[2] += topics
        rows = [
            Talker(name, m / span if span > 0 else 0.0, b / span if span > 0 else 0.0, int(t))
            for name, (m, b, t) in grouped.items()
        ]
        rows.sort(key=lambda t: (-t.rate, -t.byte_rate, t.prefix))
        return rows[:limit]

    def reset(self) -> None:
        self._samples.clear()
