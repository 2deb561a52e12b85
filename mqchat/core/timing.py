"""How far a peer's clock is believed: a timestamp too far from ours is set aside for
our own time of arrival, so nobody can pin a message to the end (or the start) of a
conversation by dating it 9999-12-31 (or 0001-01-01)."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["MAX_SKEW", "effective_time", "plausible"]

MAX_SKEW = timedelta(days=1)
"""How far a peer's clock may be from ours, either way, and still be believed."""


def plausible(
    claimed: datetime, now: datetime, *, max_age: timedelta = MAX_SKEW, skew: timedelta = MAX_SKEW
) -> bool:
    """Whether ``claimed`` lies between ``now - max_age`` and ``now + skew``."""
    return now - max_age <= claimed <= now + skew


def effective_time(
    claimed: datetime, arrived: datetime, *, max_age: timedelta = MAX_SKEW
) -> tuple[datetime, datetime | None]:
    """``(when, set_aside)``: the time to store, order and show a peer's message at,
    and the claimed time when it was not believed (else ``None``).

    ``claimed`` is the sender's clock, ``arrived`` ours when the message came. More
    than :data:`MAX_SKEW` ahead of ``arrived``, or more than ``max_age`` behind it
    (by default also :data:`MAX_SKEW`; a receiver whose broker keeps messages for
    it longer passes that), the claim is set aside and ``arrived`` is used, to the
    millisecond as the wire and the store keep times (so what is shown at once is
    what is stored, and orders the same)."""
    if plausible(claimed, arrived, max_age=max_age):
        return claimed, None
    return arrived.replace(microsecond=arrived.microsecond // 1000 * 1000), claimed
