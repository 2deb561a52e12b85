"""The accounting of ``mqchat bench``: what a bench payload carries, and what a
subscriber makes of the payloads it receives: per publisher, which sequence numbers
came, which twice, which late; latency percentiles; rates over stated windows.

Pure and clock-free: times are integers of nanoseconds handed in by the caller, so
every definition here can be checked with made-up numbers. The definitions (README
"mqchat bench"):

* **lost**: published (complete at the publisher: written at QoS 0, acknowledged at
  QoS 1/2) but never received before the drain ended. A PUBACK is never counted as a
  delivery; only a subscriber's receipt is.
* **duplicated**: a sequence number of a publisher received again.
* **out of order**: a sequence number received after a higher one of the same
  publisher (duplicates not counted again).
* **latency**: receive time minus the send time in the payload, both from this
  process's monotonic clock: only measured when the same process published.
* **rates**: a count divided by the window it happened in, never by a whole-second
  bucket: publish rate over first publish to last completion; received rate over
  first publish to last receipt (``bench pub``) or first to last receipt
  (``bench sub``, which counts the intervals between them: ``n - 1``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "HEADER_SIZE",
    "Stamp",
    "Stream",
    "Tally",
    "decode_stamp",
    "encode_stamp",
    "new_run_id",
    "percentile",
    "rate",
]

_MAGIC = b"mqb1"
HEADER_SIZE = 4 + 1 + 8 + 1 + 4 + 1 + 10 + 1 + 20 + 1
"""Bytes of the stamp at the head of a bench payload, at most; a smaller size asked
for gets the stamp whole."""
_PAD = b"."
MAX_SEQ = 10**8
"""Sequence numbers at or above are not taken as a stamp: the bitmap of what came
is one byte per number, and a foreign payload must not make it a gigabyte."""
_MAX_PUBLISHER = 10**5


def new_run_id() -> str:
    """Eight hex digits naming one run: in its topics and in each payload."""
    return os.urandom(4).hex()


class Stamp(NamedTuple):
    """What a bench payload says of itself."""

    run: str
    publisher: int
    seq: int
    sent_ns: int


def encode_stamp(stamp: Stamp, size: int) -> bytes:
    """``mqb1 RUN PUB SEQ NS `` then dots up to ``size`` bytes (never cut)."""
    head = b"%s %s %d %d %d " % (
        _MAGIC,
        stamp.run.encode(),
        stamp.publisher,
        stamp.seq,
        stamp.sent_ns,
    )
    return head + _PAD * (size - len(head)) if size > len(head) else head


def decode_stamp(payload: bytes) -> Stamp | None:
    """The stamp of a bench payload; ``None`` for anything else (a foreign payload)."""
    if not payload.startswith(_MAGIC + b" "):
        return None
    parts = payload[: HEADER_SIZE + 8].split(b" ", 5)
    if len(parts) < 6:
        return None
    _magic, run, pub, seq, sent, _rest = parts
    # digits only: int() would take "-1", "+1" and "1_000" as well
    if not (run.isalnum() and pub.isdigit() and seq.isdigit() and sent.isdigit()):
        return None
    stamp = Stamp(run.decode("ascii"), int(pub), int(seq), int(sent))
    if stamp.seq >= MAX_SEQ or stamp.publisher >= _MAX_PUBLISHER or len(run) > 16:
        return None
    return stamp


@dataclass(slots=True)
class Stream:
    """The sequence numbers of one publisher as one subscriber received them."""

    seen: bytearray = field(default_factory=bytearray)
    unique: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    highest: int = -1

    def add(self, seq: int) -> None:
        seen = self.seen
        if seq >= len(seen):
            seen.extend(bytes(max(seq + 1 - len(seen), len(seen))))
        if seen[seq]:
            self.duplicated += 1
            return
        seen[seq] = 1
        self.unique += 1
        if seq < self.highest:
            self.out_of_order += 1
        else:
            self.highest = seq

    def missing(self, sent: int | None = None) -> int:
        """Numbers below ``sent`` never received; without ``sent`` (not known to a
        mere subscriber), the gaps below the highest received: a loss at the very
        end cannot be seen that way."""
        if sent is None:
            return self.highest + 1 - self.unique
        return sent - sum(self.seen[:sent])


@dataclass(slots=True)
class Tally:
    """Everything one subscriber received, bench payloads or not."""

    streams: dict[tuple[str, int], Stream] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)
    received: int = 0
    """Every message, duplicates and foreign ones included."""
    foreign: int = 0
    """Messages whose payload is not a bench stamp."""
    first_ns: int | None = None
    last_ns: int | None = None

    def add(self, payload: bytes, received_ns: int, *, same_clock: bool) -> Stamp | None:
        """Count one message received at ``received_ns``; ``same_clock``: its stamp's
        send time is from this clock, so the latency is measured."""
        self.received += 1
        if self.first_ns is None:
            self.first_ns = received_ns
        self.last_ns = received_ns
        stamp = decode_stamp(payload)
        if stamp is None:
            self.foreign += 1
            return None
        key = (stamp.run, stamp.publisher)
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = Stream()
        duplicated = stream.duplicated
        stream.add(stamp.seq)
        if same_clock and stream.duplicated == duplicated:
            self.latencies_ns.append(received_ns - stamp.sent_ns)
        return stamp

    def runs(self) -> list[str]:
        return sorted({run for run, _pub in self.streams})

    def integrity(self, run: str, sent: Sequence[int] | None = None) -> dict[str, int]:
        """``received`` (distinct), ``lost``, ``duplicated``, ``out_of_order`` of
        ``run``; ``sent[i]``: how many publisher ``i`` published (else the gaps)."""
        totals = {"received": 0, "lost": 0, "duplicated": 0, "out_of_order": 0}
        publishers: Iterable[int] = (
            range(len(sent)) if sent is not None else (p for r, p in self.streams if r == run)
        )
        for pub in publishers:
            stream = self.streams.get((run, pub))
            if stream is None:
                totals["lost"] += sent[pub] if sent is not None else 0
                continue
            totals["received"] += stream.unique
            totals["lost"] += stream.missing(None if sent is None else sent[pub])
            totals["duplicated"] += stream.duplicated
            totals["out_of_order"] += stream.out_of_order
        return totals

    def latency_ms(self) -> dict[str, float] | None:
        """p50, p90, p99 and max in milliseconds; ``None`` when none was measured."""
        if not self.latencies_ns:
            return None
        ordered = sorted(self.latencies_ns)
        points = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
        return {k: round(percentile(ordered, p) / 1e6, 3) for k, p in points.items()}


def percentile(ordered: Sequence[int], p: float) -> int:
    """The nearest-rank ``p``-th percentile of ``ordered`` (sorted, not empty): the
    smallest value with at least ``p`` % of the values at or below it."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(min(rank, len(ordered))) - 1]


def rate(count: int, start_ns: int | None, end_ns: int | None) -> float | None:
    """``count`` per second over ``start_ns``..``end_ns``; ``None`` when the window is
    unknown or empty (one message has no rate)."""
    if start_ns is None or end_ns is None or end_ns <= start_ns or count <= 0:
        return None
    return count / ((end_ns - start_ns) / 1e9)
