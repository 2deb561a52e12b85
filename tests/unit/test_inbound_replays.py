"""A message that comes twice (chat/inbound_parts.py ``Copies``): the broker's own
second copy (the other subscription's QoS), or a retained message handed over again
with a new subscription, is dropped quietly; the same bytes on an inbox topic at the
same QoS, long after the first, are a replay, and said."""

from __future__ import annotations

import itertools
from collections import OrderedDict

import pytest

from mqchat.chat import inbound_parts
from mqchat.chat.inbound_parts import Copies, replay_notice
from mqchat.mqtt.session import Incoming

INBOX = "ns/u/alice/inbox/bob"
SEALED = b'{"v":3,"type":"sealed"}'


@pytest.fixture(autouse=True)
def slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count(step=10.0)  # every look is 10 s after the one before
    monkeypatch.setattr(inbound_parts, "_now", lambda: next(ticks))


def came(topic: str, qos: int, *, retain: bool = False, payload: bytes = SEALED) -> Incoming:
    return Incoming(topic, payload, qos, retain, 1)


def test_the_brokers_second_copy_is_no_replay() -> None:
    copies = Copies(OrderedDict())
    assert not copies.seen(came(INBOX, 0))
    assert copies.seen(came(INBOX, 1))  # the friend's own subscription: dropped
    assert copies.replays == []


def test_the_same_bytes_again_at_the_same_qos_are_a_replay_once() -> None:
    recent: inbound_parts.Seen = OrderedDict()
    first = Copies(recent)
    first.seen(came(INBOX, 1))
    first.seen(came(INBOX, 0))
    first.keep()
    later = Copies(recent)  # a later batch
    assert later.seen(came(INBOX, 1))
    assert later.seen(came(INBOX, 0))  # the replay's own second copy: not counted again
    assert [m.qos for m in later.replays] == [1]
    notice = replay_notice(later.replays[0])
    assert notice is not None and notice.title == "⚠ A message from bob came again"
    assert replay_notice(came(INBOX, 1, payload=b'{"type":"text"}')) is None  # counted only


@pytest.mark.parametrize(
    "again",
    [
        came(INBOX, 1, retain=True),  # a retained one, handed over with a new subscription
        came("ns/u/bob/keys/b0b0", 1),  # a key record: not an envelope
        came("ns/u/alice/requests/bob", 1),  # a friend request, retained on its topic
    ],
)
def test_what_comes_again_for_other_reasons_is_no_replay(again: Incoming) -> None:
    copies = Copies(OrderedDict())
    copies.seen(came(again.topic, again.qos, retain=again.retain))
    assert copies.seen(again)
    assert copies.replays == []
