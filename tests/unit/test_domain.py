"""User names, topics and safe display text: the pure rules of the scheme."""

from __future__ import annotations

import pytest

from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe
from mqchat.core.topics import (
    ParsedTopic,
    TopicKind,
    inbox_filter,
    inbox_topic,
    parse_topic,
    presence_filter,
    presence_topic,
    profile_topic,
    validate_namespace,
)


@pytest.mark.parametrize("name", ["alice", "Bob_2", "a.b-c", "x", "a" * 32, "0"])
def test_valid_user_names_pass(name: str) -> None:
    assert validate_user_name(name) == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "empty"),
        ("a/b", "'/'"),
        ("a+b", "'+'"),
        ("a#", "'#'"),
        ("a b", "a space"),
        ("$SYS", "'$'"),
        ("nul\x00", "NUL"),
        ("a" * 33, "longer than 32"),
        ("élise", "'é'"),
    ],
)
def test_invalid_user_names_are_refused_with_the_reason(name: str, says: str) -> None:
    with pytest.raises(InvalidUserName) as info:
        validate_user_name(name)
    assert says in str(info.value)


def test_topic_scheme_matches_the_design() -> None:
    assert presence_topic("mqchat", "alice") == "mqchat/u/alice/presence"
    assert profile_topic("mqchat", "alice") == "mqchat/u/alice/profile"
    assert inbox_topic("mqchat", "bob", "alice") == "mqchat/u/bob/inbox/alice"
    assert inbox_filter("mqchat", "bob") == "mqchat/u/bob/inbox/+"
    assert presence_filter("acme/chat") == "acme/chat/u/+/presence"


def test_topic_builders_refuse_wildcards_in_names() -> None:
    with pytest.raises(InvalidUserName):
        inbox_topic("mqchat", "bob", "+")
    with pytest.raises(InvalidUserName):
        presence_topic("mqchat", "a/b")


@pytest.mark.parametrize(
    ("topic", "parsed"),
    [
        ("ns/u/bob/inbox/alice", ParsedTopic(TopicKind.INBOX, "bob", "alice")),
        ("ns/u/alice/presence", ParsedTopic(TopicKind.PRESENCE, "alice")),
        ("ns/u/alice/profile", ParsedTopic(TopicKind.PROFILE, "alice")),
        ("ns/u/bob/inbox", None),
        ("ns/u/bob/inbox/alice/extra", None),
        ("other/u/bob/presence", None),
        ("ns/u/b b/presence", None),
        ("ns/u//presence", None),
        ("ns/x/bob/presence", None),
    ],
)
def test_parse_topic(topic: str, parsed: ParsedTopic | None) -> None:
    assert parse_topic("ns", topic) == parsed


@pytest.mark.parametrize("ns", ["", "a/+", "#", "$SYS", "a//b", "a/"])
def test_bad_namespaces_are_refused(ns: str) -> None:
    with pytest.raises(ValueError):
        validate_namespace(ns)


def test_display_safe_strips_terminal_control_sequences() -> None:
    hostile = "hi\x1b[2J\x1b]0;pwned\x07\x9b31m there\r\x08"
    shown = display_safe(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\r" not in shown and "\x08" not in shown
    assert shown.startswith("hi") and "there" in shown


def test_display_safe_keeps_text_newlines_and_markup_literally() -> None:
    assert display_safe("[bold]x[/bold]\nnext\tcol") == "[bold]x[/bold]\nnext col"
