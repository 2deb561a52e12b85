"""The inspector feed's hand-off buffer: messages read on the feed's thread wait here
until the UI takes them on its timer, bounded in messages and in bytes (topic and
payload), the newest dropped and counted beyond either bound."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from mqchat.core.message import Message

__all__ = ["Handoff"]


class Handoff:
    """One writer (the feed's thread, through :meth:`handler`), one reader (the UI,
    through :meth:`take`): no locks, each count has a single writer."""

    __slots__ = (
        "_buffer",
        "_byte_limit",
        "_bytes_in",
        "_bytes_out",
        "_limit",
        "dropped",
        "received",
        "taken",
    )

    def __init__(self, limit: int, byte_limit: int) -> None:
        self._limit = limit
        self._byte_limit = byte_limit
        self._buffer: deque[Message] = deque()
        self._bytes_in = 0  # written by the feed's thread only
        self._bytes_out = 0  # written by the UI's only
        self.received = 0
        """Every message handed over, dropped ones included."""
        self.dropped = 0
        """Messages thrown away because a bound was reached (the UI fell behind)."""
        self.taken = threading.Event()
        """Set whenever the UI takes, for a reader pausing until it does."""

    def waiting(self) -> tuple[int, int]:
        """Messages and bytes waiting for the UI."""
        return len(self._buffer), self._bytes_in - self._bytes_out

    def handler(self) -> Callable[[Message], None]:
        """The hot path, one call per message: local names, deque.append is atomic."""
        buffer, limit, byte_limit = self._buffer, self._limit, self._byte_limit
        append = buffer.append

        def on_message(msg: Message) -> None:
            self.received += 1
            size = len(msg.topic) + len(msg.payload)
            if len(buffer) >= limit or self._bytes_in - self._bytes_out + size > byte_limit:
                self.dropped += 1
                return
            self._bytes_in += size
            append(msg)

        return on_message

    def take(self, limit: int) -> list[Message]:
        """Up to ``limit`` waiting messages, oldest first, removing them."""
        buffer = self._buffer
        popleft = buffer.popleft
        taken = [popleft() for _ in range(min(limit, len(buffer)))]
        self._bytes_out += sum([len(m.topic) + len(m.payload) for m in taken])
        self.taken.set()
        return taken
