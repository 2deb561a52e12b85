"""A peer's clock against a real mosquitto: a text dated 9999-12-31 (or 0001-01-01) on
bob's inbox is stored at its arrival and flagged, so it is neither pinned as the last
message and the friends-list preview nor buried at the start of the conversation.
Presence dated in the far future does not say "last seen 9999-12-31"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mqchat.core.envelope import Text, encode_envelope
from mqchat.core.events import ChatReceived, PresenceChanged
from mqchat.core.model import ChatMessage, utc_now
from tests.broker import test_hostile_broker as hostile
from tests.broker.test_hostile_broker import Bob, mosquitto_pub

pytestmark = pytest.mark.broker

bob = hostile.bob  # bob's ChatService on a real mosquitto; alice is his friend

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)


async def alice_says(bob: Bob, body: str, ts: str | None = None) -> ChatMessage:
    """A text from alice, dated ``ts`` (``None``: now) byte for byte; returns it as bob
    stored it, once he has."""
    env = Text.new("alice", "bob", body)
    payload = encode_envelope(env)
    if ts is not None:
        payload = json.dumps(json.loads(payload) | {"ts": ts}).encode()
    mark = len(bob.events.events)
    await mosquitto_pub(bob.broker, bob.inbox("alice"), payload)
    got = await bob.events.wait_for(ChatReceived, lambda e: e.message.id == env.id, since=mark)
    return got.message


async def test_a_message_from_the_far_future_is_placed_at_its_arrival(bob: Bob) -> None:
    before = utc_now()
    pinned = await alice_says(bob, "I will always be last", "9999-12-31T23:59:59.000Z")
    later = await alice_says(bob, "a normal message, sent later")

    assert pinned.claimed_ts == FAR_FUTURE  # kept, to show beside the message
    assert before - timedelta(seconds=1) <= pinned.ts <= later.ts <= utc_now()
    assert later.claimed_ts is None
    assert [m.body for m in await bob.conversation("alice")] == [pinned.body, later.body]
    page = await bob.service.history("alice", limit=1)
    assert [m.body for m in page] == [later.body]

    summaries = {s.contact.user: s for s in await bob.service.contacts()}
    last = summaries["alice"].last_message
    assert last is not None and last.body == later.body  # the friends-list preview
    stored = await (await bob.service.store()).get_message(pinned.id)
    assert stored is not None and stored.claimed_ts == FAR_FUTURE


async def test_a_message_from_year_one_is_not_buried_at_the_start(bob: Bob) -> None:
    first = await alice_says(bob, "hello")
    buried = await alice_says(bob, "find me", "0001-01-01T00:00:00Z")
    assert buried.claimed_ts == FAR_PAST and buried.ts >= first.ts
    assert [m.body for m in await bob.conversation("alice")] == ["hello", "find me"]


async def test_a_message_a_few_hours_off_keeps_the_senders_time(bob: Bob) -> None:
    earlier = (utc_now() - timedelta(hours=3)).replace(microsecond=0)
    message = await alice_says(bob, "sent on the train", earlier.isoformat())
    assert (message.ts, message.claimed_ts) == (earlier, None)


async def test_presence_from_the_far_future_shows_no_such_time(bob: Bob) -> None:
    await bob.service.watch_roster(True)
    await hostile.publish_carol_presence(bob)  # the subscription is in place
    mark = len(bob.events.events)
    payload = json.dumps({"v": 1, "state": "offline", "ts": "9999-12-31T00:00:00Z"}).encode()
    await mosquitto_pub(bob.broker, f"{bob.ns}/u/mallory/presence", payload)
    got = await bob.events.wait_for(
        PresenceChanged, lambda e: e.presence.user == "mallory", since=mark
    )
    assert got.presence.since is not None and got.presence.since <= utc_now()
