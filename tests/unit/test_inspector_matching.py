"""MQTT topic filters: validation messages, the spec's examples, and the compiled
matchers checked against a level-by-level reference on generated topics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqchat.core.topic_filter import (
    InvalidFilter,
    InvalidTopic,
    compile_filter,
    has_wildcards,
    matches,
    validate_filter,
    validate_topic,
)


def reference_match(topic_filter: str, topic: str) -> bool:
    """The spec read literally, level by level (shared subscriptions stripped)."""
    if topic_filter.startswith("$share/"):
        topic_filter = topic_filter.split("/", 2)[2]
    f_levels, t_levels = topic_filter.split("/"), topic.split("/")
    if topic.startswith("$") and f_levels[0] in ("+", "#"):
        return False
    for i, level in enumerate(f_levels):
        if level == "#":
            return True  # also matches the parent level: "a/#" matches "a"
        if i >= len(t_levels):
            return False
        if level != "+" and level != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "good",
    ["#", "+", "a/#", "a/+/c", "+/+", "/", "/+", "a//b", "$SYS/#", "+/#", "$share/g/a/#", "é/中"],
)
def test_valid_filters_pass(good: str) -> None:
    assert validate_filter(good) == good


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("", "empty"),
        ("a/#/b", "'#' must be a whole level and the last one"),
        ("a#", "'#' must be a whole level"),
        ("#/", "'#' must be a whole level and the last one"),
        ("a/b+", "'+' must be a whole level"),
        ("+a", "'+' must be a whole level"),
        ("a\x00b", "NUL"),
        ("\ud800", "surrogate"),
        ("a" * 65536, "65536 bytes"),
        ("$share/g", "$share/GROUP/FILTER"),
        ("$share//a", "$share/GROUP/FILTER"),
        ("$share/g+/a", "share group"),
        ("$share/g/a#", "'#'"),
    ],
)
def test_invalid_filters_say_why(bad: str, says: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        validate_filter(bad)
    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_compile_refuses_invalid_filters() -> None:
    with pytest.raises(InvalidFilter):
        compile_filter("a/#/b")
    with pytest.raises(InvalidFilter):
        matches("a+", "a")


@pytest.mark.parametrize(("bad", "says"), [("", "empty"), ("a/+", "wildcards"), ("#", "'#'")])
def test_invalid_topics_say_why(bad: str, says: str) -> None:
    with pytest.raises(InvalidTopic) as caught:
        validate_topic(bad)
    assert says in str(caught.value)


def test_topics_with_empty_levels_and_dollar_are_valid() -> None:
    for topic in ("/", "a//b", "$SYS/x", "/a/"):
        assert validate_topic(topic) == topic


def test_has_wildcards() -> None:
    assert has_wildcards("a/+") and has_wildcards("#")
    assert not has_wildcards("a/b")


# -- the spec's examples ------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("sport/tennis/player1/#", "sport/tennis/player1", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
        ("sport/tennis/player1/#", "sport/tennis/player10", False),
        ("sport/#", "sport", True),
        ("sport/tennis/+", "sport/tennis/player1", True),
        ("sport/tennis/+", "sport/tennis/player1/ranking", False),
        ("sport/+", "sport", False),
        ("sport/+", "sport/", True),
        ("+/+", "/finance", True),
        ("/+", "/finance", True),
        ("+", "/finance", False),
        ("#", "$SYS/broker/uptime", False),
        ("+/monitor/Clients", "$SYS/monitor/Clients", False),
        ("$SYS/#", "$SYS/monitor/Clients", True),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
        ("#", "a/b", True),
        ("#", "/", True),
        ("a//b", "a//b", True),
        ("a/+/b", "a//b", True),
        ("a/b", "a/b/", False),
        ("+/#", "a", True),
        ("+/#", "$a", False),
        ("a/+/#", "a", False),
        ("$share/group/a/+", "a/b", True),
        ("a.b/+", "axb/c", False),  # regex characters are literal
        ("a/+", "a/line\nbreak", True),
        ("a/#", "a/x\ny", True),
    ],
)
def test_spec_examples(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected
    assert reference_match(topic_filter, topic) is expected


def test_compiled_matchers_are_cached() -> None:
    assert compile_filter("x/+/y") is compile_filter("x/+/y")


# -- generated filters and topics ---------------------------------------------------

level = st.sampled_from(["a", "b", "", "$SYS", "$x", "é", "x.y", "a*", "[", "\n"])
topic_levels = st.lists(level, min_size=1, max_size=5)
filter_level = st.one_of(level, st.just("+"))


@st.composite
def filters(draw: st.DrawFn) -> str:
    levels = draw(st.lists(filter_level, min_size=1, max_size=5))
    if draw(st.booleans()):
        levels.append("#")
    text = "/".join(levels) or "+"  # a single empty level is the empty filter
    return f"$share/g/{text}" if draw(st.booleans()) else text


@st.composite
def related(draw: st.DrawFn) -> tuple[str, str]:
    """A filter and a topic often derived from it, so matches are frequent."""
    topic_filter = draw(filters())
    plain = topic_filter.split("/", 2)[2] if topic_filter.startswith("$share/") else topic_filter
    parts: list[str] = []
    for lvl in plain.split("/"):
        if lvl == "#":
            parts.extend(draw(st.lists(level, max_size=3)))
        elif lvl == "+":
            parts.append(draw(level))
        else:
            parts.append(lvl if draw(st.integers(0, 4)) else draw(level))
    topic = "/".join(parts) if parts else draw(level)
    return topic_filter, topic if topic else "/".join(draw(topic_levels))


@settings(max_examples=800, deadline=None)
@given(related())
def test_compiled_matcher_agrees_with_the_reference(case: tuple[str, str]) -> None:
    topic_filter, topic = case
    assert matches(topic_filter, topic) == reference_match(topic_filter, topic)


@settings(max_examples=400, deadline=None)
@given(filters(), topic_levels.map("/".join))
def test_unrelated_topics_agree_with_the_reference(topic_filter: str, topic: str) -> None:
    assert matches(topic_filter, topic) == reference_match(topic_filter, topic)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab/+#$\x00"), max_size=8))
def test_any_string_is_either_a_valid_filter_or_refused(text: str) -> None:
    try:
        validate_filter(text)
    except InvalidFilter as error:
        assert str(error)
        return
    topic = text.replace("+", "p").replace("#", "h")
    if topic:
        assert isinstance(matches(text, topic), bool)
