"""Receipts waiting to be published, merged per peer and status so that a flood of
incoming messages is acknowledged with a few envelopes rather than one each."""

from __future__ import annotations

from mqchat.core.envelope import ReceiptStatus

__all__ = ["MAX_IDS_PER_RECEIPT", "ReceiptQueue"]

MAX_IDS_PER_RECEIPT = 400
"""Keeps one receipt envelope far below the 64 KiB limit (ids are ≤64 chars)."""

Batch = tuple[str, ReceiptStatus, list[str]]
"""(peer, status, ids)"""


class ReceiptQueue:
    def __init__(self) -> None:
        # dicts as ordered sets: arrival order kept, a repeated id merged
        self._waiting: dict[tuple[str, ReceiptStatus], dict[str, None]] = {}

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def add(self, peer: str, status: ReceiptStatus, ids: list[str]) -> None:
        if ids:
            self._waiting.setdefault((peer, status), {}).update(dict.fromkeys(ids))

    def take(self) -> list[Batch]:
        """Everything waiting, as envelopes-to-be of at most MAX_IDS_PER_RECEIPT ids."""
        waiting, self._waiting = self._waiting, {}
        batches: list[Batch] = []
        for (peer, status), merged in waiting.items():
            ids = list(merged)
            for start in range(0, len(ids), MAX_IDS_PER_RECEIPT):
                batches.append((peer, status, ids[start : start + MAX_IDS_PER_RECEIPT]))
        return batches

    def put_back(self, batches: list[Batch]) -> None:
        """Batches that could not be published go out with the next connection."""
        for peer, status, ids in batches:
            self.add(peer, status, ids)
