"""chat/group_commit.py: a send returns once its message is stored; sends made
while a write waits share the next commit and reach the outbox in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from mqchat.chat.group_commit import GroupCommit
from mqchat.core.model import ChatMessage, DeliveryState, Direction

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def out(i: int) -> ChatMessage:
    return ChatMessage(f"m{i}", "bob", Direction.OUT, "alice", "bob", T0, str(i),
                       DeliveryState.PENDING)  # fmt: skip


class FakeStore:
    """Stores at once while ``free``; otherwise each write waits for ``release``."""

    def __init__(self) -> None:
        self.free = True
        self.release = asyncio.Event()
        self.commits: list[list[str]] = []
        self.fail: Exception | None = None

    def write_now(self, messages: Sequence[ChatMessage]) -> bool:
        if not self.free:
            return False
        self.commits.append([m.id for m in messages])
        return True

    async def write(self, messages: Sequence[ChatMessage]) -> None:
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        self.commits.append([m.id for m in messages])


async def test_sends_while_a_write_waits_share_the_next_commit_in_order() -> None:
    store, queued = FakeStore(), []
    sending = GroupCommit(store.write_now, store.write, lambda m: queued.append(m.id))
    await sending.add(out(0))  # nothing waits: stored at once
    assert store.commits == [["m0"]] and queued == ["m0"]

    store.free = False  # another writer holds the file
    calls = [asyncio.create_task(sending.add(out(i))) for i in range(1, 6)]
    await asyncio.sleep(0)
    store.free = True  # free now, but a batch is waiting: the rest queue behind it
    calls += [asyncio.create_task(sending.add(out(i))) for i in range(6, 9)]
    await asyncio.sleep(0)
    assert not any(c.done() for c in calls)  # nothing returns before it is stored
    assert queued == ["m0"]
    store.release.set()
    await asyncio.gather(*calls)
    assert store.commits == [["m0"], ["m1", "m2", "m3", "m4", "m5"], ["m6", "m7", "m8"]]
    assert queued == [f"m{i}" for i in range(9)]


async def test_a_failed_commit_fails_every_send_of_its_batch_and_queues_none() -> None:
    store, queued = FakeStore(), []
    sending = GroupCommit(store.write_now, store.write, lambda m: queued.append(m.id))
    store.free = False
    store.fail = OSError("disk full")
    calls = [asyncio.create_task(sending.add(out(i))) for i in range(3)]
    await asyncio.sleep(0)
    store.release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    assert queued == []
    store.fail, store.free = None, True
    await sending.add(out(3))  # and the next send goes on
    assert queued == ["m3"]


async def test_a_send_given_up_on_is_still_stored_and_queued() -> None:
    store, queued = FakeStore(), []
    sending = GroupCommit(store.write_now, store.write, lambda m: queued.append(m.id))
    store.free = False
    call = asyncio.create_task(sending.add(out(1)))
    await asyncio.sleep(0)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    store.release.set()
    while not queued:
        await asyncio.sleep(0)
    assert store.commits == [["m1"]] and queued == ["m1"]
