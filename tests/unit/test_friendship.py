"""The friend-request handshake rules, for every status a contact can be in."""

from __future__ import annotations

import pytest

from mqchat.core.friendship import Reply, on_accept, on_add, on_message, on_request
from mqchat.core.model import ContactStatus as S


@pytest.mark.parametrize(
    ("before", "after", "reply"),
    [
        (None, S.REQUESTED, Reply.REQUEST),
        (S.INCOMING, S.FRIEND, Reply.ACCEPT),
        (S.REQUESTED, S.REQUESTED, Reply.NONE),
        (S.FRIEND, S.FRIEND, Reply.NONE),
    ],
)
def test_adding(before: S | None, after: S, reply: Reply) -> None:
    assert on_add(before) == (after, reply)


@pytest.mark.parametrize(
    ("before", "after", "reply"),
    [
        (None, S.INCOMING, Reply.NONE),
        (S.INCOMING, S.INCOMING, Reply.NONE),
        (S.REQUESTED, S.FRIEND, Reply.ACCEPT),  # both asked: friends
        (S.FRIEND, S.FRIEND, Reply.ACCEPT),  # they lost their side: confirm again
    ],
)
def test_their_request(before: S | None, after: S, reply: Reply) -> None:
    assert on_request(before) == (after, reply)


@pytest.mark.parametrize(
    ("before", "after"),
    [(None, None), (S.INCOMING, S.INCOMING), (S.REQUESTED, S.FRIEND), (S.FRIEND, S.FRIEND)],
)
def test_their_accept_counts_only_if_we_asked(before: S | None, after: S | None) -> None:
    assert on_accept(before) == after


def test_a_strangers_message_makes_a_request_never_a_friend() -> None:
    assert on_message(None) is S.INCOMING
    assert on_message(S.REQUESTED) is S.REQUESTED
