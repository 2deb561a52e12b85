"""A recording as the inspector's backend (``mqchat inspect --open FILE``): no broker,
no thread. The messages are handed to the screen, through the same
:meth:`~InspectorBackend.take` as live ones, up to a cursor in the recording's time
span: the screen's scrubber moves the cursor, so the tree, the log and the detail
show what had been captured by then. Moving back means starting over: the screen
clears its capture and takes again from the first message (:meth:`seek` says when)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mqchat.core.events import ConnectionChanged
from mqchat.core.message import Message
from mqchat.core.model import ConnectionState
from mqchat.inspector.backend import ClearOutcome, FeedError, InspectorBackend, PublishOutcome
from mqchat.inspector.backend import PublishRequest as Publish
from mqchat.inspector.recording import read_all

__all__ = ["OFFLINE", "Playback", "load_playback"]

OFFLINE = "offline: a recording is shown, nothing is sent to any broker"


class Playback(InspectorBackend):
    """``messages`` (sorted by arrival time here, each topic's order kept) shown up to
    :attr:`cursor`, which starts at the end: everything recorded is shown at first."""

    def __init__(
        self,
        name: str,
        messages: Sequence[Message],
        header: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        self.broker_label = f"recording {name}"
        self.messages = sorted(messages, key=lambda m: m.ts)
        self.times = [m.ts for m in self.messages]
        self.header = dict(header or {})
        self.first = self.times[0] if self.times else 0.0
        self.last = self.times[-1] if self.times else 0.0
        self.cursor = self.last
        self._shown = len(self.messages)  # messages at or before the cursor
        self._pos = 0  # the next one to hand out
        self._notices: list[str] = [note] if note else []
        self._state = ConnectionChanged(ConnectionState.CLOSED, "offline")
        filters = self.header.get("filters")
        self._subs = (
            {f: 0 for f in filters if isinstance(f, str)} if isinstance(filters, list) else {}
        )

    # -- the cursor -------------------------------------------------------------------

    @property
    def span(self) -> float:
        return self.last - self.first

    @property
    def pending(self) -> int:
        """Messages up to the cursor not taken yet (the screen is catching up)."""
        return self._shown - self._pos

    def seek(self, when: float) -> bool:
        """Move the cursor to ``when`` (kept within the recording). Returns ``True``
        when messages already taken lie after it: the screen must clear its capture,
        and :meth:`take` starts again from the first message."""
        self.cursor = min(max(when, self.first), self.last)
        self._shown = bisect_right(self.times, self.cursor)
        if self._pos <= self._shown:
            return False
        self._pos = 0
        return True

    def count_between(self, since: float, until: float) -> int:
        """Messages that arrived in [since, until) (the scrubber's density)."""
        return bisect_left(self.times, until) - bisect_left(self.times, since)

    # -- contract: what the screen reads ----------------------------------------------

    @property
    def connection(self) -> ConnectionChanged:
        return self._state

    @property
    def subscriptions(self) -> Mapping[str, int]:
        return dict(self._subs)

    @property
    def received(self) -> int:
        return self._pos

    @property
    def dropped(self) -> int:
        return 0

    def take(self, limit: int) -> list[Message]:
        end = min(self._pos + limit, self._shown)
        taken = self.messages[self._pos : end]
        self._pos = max(end, self._pos)
        return taken

    def take_notices(self) -> list[str]:
        notices, self._notices = self._notices, []
        return notices

    # -- contract: nothing goes to a broker -------------------------------------------

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        self._notices.append(OFFLINE)

    def unsubscribe(self, topic_filter: str) -> bool:
        return False

    async def publish(self, request: Publish) -> PublishOutcome:
        raise FeedError(OFFLINE)

    async def find_retained(self, topic_filter: str) -> list[str]:
        raise FeedError(OFFLINE)

    async def clear_retained(self, topics: Sequence[str]) -> ClearOutcome:
        raise FeedError(OFFLINE)


def load_playback(path: Path) -> Playback:
    """The recording at ``path``, read whole. Raises
    :class:`~mqchat.inspector.recording.RecordingError` (one line)."""
    header, messages, note = read_all(path)
    return Playback(path.name, messages, header, note)
