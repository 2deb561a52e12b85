"""Receipts waiting to go out are merged per peer and status, in arrival order."""

from __future__ import annotations

from mqchat.core.receipts import MAX_IDS_PER_RECEIPT, ReceiptQueue


def test_ids_are_merged_per_peer_and_status_in_order() -> None:
    queue = ReceiptQueue()
    queue.add("alice", "delivered", ["a1", "a2"])
    queue.add("bob", "delivered", ["b1"])
    queue.add("alice", "delivered", ["a3", "a1"])  # a repeat is merged
    queue.add("alice", "read", ["a1"])
    assert queue.take() == [
        ("alice", "delivered", ["a1", "a2", "a3"]),
        ("bob", "delivered", ["b1"]),
        ("alice", "read", ["a1"]),
    ]
    assert not queue and queue.take() == []


def test_a_flood_is_split_into_envelopes_below_the_size_limit() -> None:
    queue = ReceiptQueue()
    queue.add("alice", "delivered", [f"id{i}" for i in range(MAX_IDS_PER_RECEIPT * 2 + 1)])
    sizes = [len(ids) for _peer, _status, ids in queue.take()]
    assert sizes == [MAX_IDS_PER_RECEIPT, MAX_IDS_PER_RECEIPT, 1]


def test_what_could_not_be_published_waits_for_the_next_connection() -> None:
    queue = ReceiptQueue()
    queue.add("alice", "delivered", ["a1"])
    batches = queue.take()
    queue.put_back(batches)
    queue.add("alice", "delivered", ["a2"])
    assert queue.take() == [("alice", "delivered", ["a1", "a2"])]
