"""What we know of everyone's presence, fed by retained and live presence messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from mqchat.core.model import Presence, PresenceState
from mqchat.core.timing import MAX_SKEW

__all__ = ["Roster"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Roster:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        """Our clock: what "now" is for presence (and for the chat's arrivals)."""
        self._by_user: dict[str, Presence] = {}

    def update(self, presence: Presence, *, retained: bool) -> Presence:
        """Record a presence message; returns what to show.

        A Will carries the time its client connected, not the time it died: when we
        see it live, the loss is now; when it is an old retained one, we do not know
        when the loss happened and say so (``since=None``). The same goes for a state
        said to begin more than :data:`~mqchat.core.timing.MAX_SKEW` ahead of now: the
        sender's clock is not believed."""
        previous = self._by_user.get(presence.user)
        if presence.since is not None and presence.since > self.clock() + MAX_SKEW:
            presence = replace(presence, since=None if retained else self.clock())
        if presence.lost and presence.state is PresenceState.OFFLINE:
            presence = replace(presence, since=None if retained else self.clock())
        if (
            retained
            and previous is not None
            and (previous.state, previous.lost) == (presence.state, presence.lost)
        ):
            # A retained copy of what we already saw live (a new subscription): keep
            # the better-known time.
            presence = replace(presence, since=previous.since or presence.since)
        if presence.name is None and previous is not None:
            presence = replace(presence, name=previous.name)
        self._by_user[presence.user] = presence
        return presence

    def get(self, user: str) -> Presence | None:
        return self._by_user.get(user)

    def everyone(self) -> list[Presence]:
        """Online (and away) first, then offline; most recent first within each."""
        return sorted(
            self._by_user.values(),
            key=lambda p: (not p.online, -(p.since or _EPOCH).timestamp(), p.user),
        )
