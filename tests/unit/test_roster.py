"""Presence bookkeeping: what 'since' and 'last seen' mean for live and retained news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mqchat.core.model import Presence, PresenceState
from mqchat.core.roster import Roster

T0 = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def roster() -> Roster:
    return Roster(clock=lambda: NOW)


def will(user: str = "alice") -> Presence:
    # the Will carries its client's connect time, not the time of the loss
    return Presence(user, PresenceState.OFFLINE, since=T0, lost=True)


def test_a_live_will_means_lost_just_now() -> None:
    assert roster().update(will(), retained=False).since == NOW


def test_an_old_retained_will_has_no_known_time() -> None:
    assert roster().update(will(), retained=True).since is None


def test_a_retained_copy_keeps_what_was_seen_live() -> None:
    r = roster()
    r.update(will(), retained=False)
    assert r.update(will(), retained=True).since == NOW


def test_a_graceful_offline_keeps_its_own_time() -> None:
    bye = Presence("alice", PresenceState.OFFLINE, since=T0 + timedelta(minutes=5))
    assert roster().update(bye, retained=True).since == T0 + timedelta(minutes=5)


def test_display_name_is_remembered_when_a_will_has_none() -> None:
    r = roster()
    r.update(Presence("alice", PresenceState.ONLINE, since=T0, name="Alice"), retained=False)
    assert r.update(will(), retained=False).name == "Alice"


def test_everyone_lists_online_first_then_most_recent() -> None:
    r = roster()
    r.update(Presence("old", PresenceState.OFFLINE, since=T0), retained=True)
    r.update(
        Presence("recent", PresenceState.OFFLINE, since=T0 + timedelta(minutes=30)), retained=True
    )
    r.update(Presence("zed", PresenceState.ONLINE, since=T0), retained=True)
    r.update(Presence("amy", PresenceState.AWAY, since=T0 + timedelta(minutes=1)), retained=True)
    assert [p.user for p in r.everyone()] == ["amy", "zed", "recent", "old"]
