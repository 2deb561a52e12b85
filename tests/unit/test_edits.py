"""Protocol v2's edits and deletes as the store applies them: only the sender of a
message may change it, whichever way it went; a delete is final and leaves nothing
to search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.core.edits import Change, Outcome, judge
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=1)


def from_bob(mid: str = "m1", body: str = "see you at noon") -> ChatMessage:
    return ChatMessage(mid, "bob", Direction.IN, "bob", "alice", T0, body, DeliveryState.RECEIVED)


def to_bob(mid: str = "o1", body: str = "fine by me") -> ChatMessage:
    return ChatMessage(mid, "bob", Direction.OUT, "alice", "bob", T0, body, DeliveryState.SENT)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ChatStore]:
    async with await ChatStore.open(tmp_path / "alice.sqlite3", clock=lambda: T0) as s:
        await s.add_messages([from_bob(), to_bob()])
        yield s


def test_the_rule_allows_only_the_sender() -> None:
    msg = from_bob()
    assert judge(None, "bob", Change.EDIT, T0) is Outcome.UNKNOWN
    assert judge(msg, "bob", Change.EDIT, T0) is Outcome.APPLIED
    assert judge(msg, "mallory", Change.EDIT, T0) is Outcome.NOT_THEIRS
    assert judge(msg, "alice", Change.DELETE, T0) is Outcome.NOT_THEIRS  # the recipient
    assert judge(to_bob(), "alice", Change.DELETE, T0) is Outcome.APPLIED  # our own
    assert judge(to_bob(), "bob", Change.EDIT, T0) is Outcome.NOT_THEIRS


async def test_the_sender_edits_and_the_body_and_time_are_stored(store: ChatStore) -> None:
    outcome, changed = await store.change_message("m1", "bob", body="see you at one", at=LATER)
    assert outcome is Outcome.APPLIED
    assert changed == (await store.get_message("m1"))
    assert changed is not None
    assert (changed.body, changed.edited, changed.deleted) == ("see you at one", LATER, False)
    bodies = [m.body for m in await store.page_before("bob", None)]
    assert bodies == ["see you at one", "fine by me"]
    assert [m.id for m in await store.search("one")] == ["m1"]
    assert await store.search("noon") == []


async def test_someone_else_cannot_edit_or_delete(store: ChatStore) -> None:
    for sender in ["mallory", "alice"]:
        outcome, kept = await store.change_message("m1", sender, body="gotcha", at=LATER)
        assert outcome is Outcome.NOT_THEIRS
        assert kept == from_bob()
        outcome, _ = await store.change_message("m1", sender, body=None, at=LATER)
        assert outcome is Outcome.NOT_THEIRS
    outcome, _ = await store.change_message("o1", "bob", body=None, at=LATER)
    assert outcome is Outcome.NOT_THEIRS
    assert await store.get_message("m1") == from_bob()
    assert await store.get_message("o1") == to_bob()


async def test_an_unknown_target_is_ignored(store: ChatStore) -> None:
    assert await store.change_message("nope", "bob", body="x", at=LATER) == (Outcome.UNKNOWN, None)


async def test_a_delete_is_final_and_leaves_nothing_to_search(store: ChatStore) -> None:
    await store.search("noon")  # indexed: the trigger takes it out of the index
    outcome, gone = await store.change_message("m1", "bob", body=None, at=LATER)
    assert outcome is Outcome.APPLIED
    assert gone is not None and (gone.body, gone.deleted) == ("", True)
    assert await store.search("noon") == []
    later = LATER + timedelta(minutes=1)
    outcome, still = await store.change_message("m1", "bob", body="back again", at=later)
    assert outcome is Outcome.STALE
    assert still == gone
    assert await store.search("back") == []


async def test_a_delete_before_indexing_leaves_nothing_to_search(store: ChatStore) -> None:
    # Not indexed yet: the next catch-up indexes the row as it is then, empty.
    await store.change_message("o1", "alice", body=None, at=LATER)
    assert await store.search("fine") == []


async def test_our_own_message_is_ours_to_change(store: ChatStore) -> None:
    outcome, changed = await store.change_message("o1", "alice", body="fine by me!", at=LATER)
    assert outcome is Outcome.APPLIED and changed is not None and changed.outgoing
    assert changed.edited == LATER


async def test_an_older_edit_does_not_replace_a_newer_one(store: ChatStore) -> None:
    await store.change_message("m1", "bob", body="second", at=LATER)
    outcome, kept = await store.change_message("m1", "bob", body="first", at=T0)
    assert outcome is Outcome.STALE
    assert kept is not None and kept.body == "second"


async def test_deleted_messages_are_never_sent_again(store: ChatStore) -> None:
    await store.add_messages([replace(to_bob("o2", "oops"), state=DeliveryState.PENDING)])
    await store.change_message("o2", "alice", body=None, at=LATER)
    await store.change_message("o1", "alice", body=None, at=LATER)
    assert await store.pending_outgoing() == []
    assert await store.outgoing_in_state(DeliveryState.SENT) == []


async def test_our_change_waits_in_the_store_until_sent(store: ChatStore) -> None:
    kept = ("c1", "bob", b'{"type":"edit"}')
    await store.change_message("o1", "alice", body="fine by me!", at=LATER, publish=kept)
    refused = ("c2", "bob", b'{"type":"delete"}')
    await store.change_message("m1", "alice", body=None, at=LATER, publish=refused)  # not ours
    later = ("c3", "bob", b'{"type":"delete"}')
    await store.change_message("o1", "alice", body=None, at=LATER, publish=later)
    assert await store.outgoing_changes() == [kept, later]
    await store.change_sent("c1")
    assert await store.outgoing_changes() == [later]
