"""Which peer timestamps are believed: a message dated far from our clock is placed at
its arrival, and the claim kept to show beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mqchat.core.model import Presence, PresenceState
from mqchat.core.roster import Roster
from mqchat.core.timing import MAX_SKEW, effective_time, plausible

NOW = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)


def test_the_tolerance_is_one_day() -> None:
    assert timedelta(days=1) == MAX_SKEW


@pytest.mark.parametrize(
    "claimed",
    [NOW, NOW - timedelta(hours=23), NOW + timedelta(hours=23), NOW + MAX_SKEW, NOW - MAX_SKEW],
)
def test_a_time_within_a_day_is_believed(claimed: datetime) -> None:
    assert plausible(claimed, NOW)
    assert effective_time(claimed, NOW) == (claimed, None)


@pytest.mark.parametrize(
    "claimed",
    [
        FAR_FUTURE,
        FAR_PAST,
        NOW + MAX_SKEW + timedelta(milliseconds=1),
        NOW - MAX_SKEW - timedelta(milliseconds=1),
    ],
)
def test_a_time_further_away_is_set_aside_for_the_arrival(claimed: datetime) -> None:
    assert not plausible(claimed, NOW)
    assert effective_time(claimed, NOW) == (NOW, claimed)


def test_an_arrival_used_instead_is_kept_to_the_millisecond_as_stored() -> None:
    # What the UI is told at once must be what the store keeps (ms), or a message
    # shown first sorts after one that arrived a moment later with a believed time.
    arrived = NOW + timedelta(microseconds=199_090)
    assert effective_time(FAR_FUTURE, arrived) == (NOW + timedelta(milliseconds=199), FAR_FUTURE)


def test_a_longer_max_age_believes_older_times_but_not_the_future() -> None:
    week = timedelta(days=8)
    old = NOW - timedelta(days=7)
    assert effective_time(old, NOW, max_age=week) == (old, None)
    assert effective_time(NOW - timedelta(days=9), NOW, max_age=week)[1] is not None
    assert effective_time(FAR_FUTURE, NOW, max_age=week) == (NOW, FAR_FUTURE)


def test_presence_from_the_far_future_has_no_believable_time() -> None:
    roster = Roster(clock=lambda: NOW)
    live = roster.update(Presence("m", PresenceState.OFFLINE, since=FAR_FUTURE), retained=False)
    assert live.since == NOW  # we learn it now
    kept = roster.update(Presence("n", PresenceState.OFFLINE, since=FAR_FUTURE), retained=True)
    assert kept.since is None  # an old retained state: when it began is unknown
    soon = NOW + timedelta(hours=2)  # a clock a little fast is believed
    assert (
        roster.update(Presence("o", PresenceState.ONLINE, since=soon), retained=True).since == soon
    )
    # and the far future does not put anybody at the top of "most recent first"
    roster.update(
        Presence("p", PresenceState.OFFLINE, since=NOW - timedelta(hours=1)), retained=True
    )
    assert [p.user for p in roster.everyone() if not p.online] == ["m", "p", "n"]
