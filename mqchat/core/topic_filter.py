"""MQTT topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7): validation with an error a
person can act on, and matchers compiled once per filter for the hot path."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "MAX_TOPIC_BYTES",
    "InvalidFilter",
    "InvalidTopic",
    "TopicMatcher",
    "compile_filter",
    "has_wildcards",
    "matches",
    "validate_filter",
    "validate_topic",
]

MAX_TOPIC_BYTES = 65535
"""Topic names and filters are UTF-8 strings with a two-byte length prefix."""

_SHARE = "$share/"

TopicMatcher = Callable[[str], bool]


class InvalidFilter(ValueError):
    """A topic filter a broker would refuse, with the reason in words."""


class InvalidTopic(ValueError):
    """A topic name that cannot be published to, with the reason in words."""


def _check_string(value: str, what: str, error: type[ValueError]) -> None:
    if value == "":
        raise error(f"the {what} is empty")
    if "\x00" in value:
        raise error(f"the {what} {value!r} contains a NUL character")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise error(f"the {what} {value!r} is not valid Unicode (a lone surrogate)") from None
    if size > MAX_TOPIC_BYTES:
        raise error(f"the {what} is {size} bytes long; at most {MAX_TOPIC_BYTES} are allowed")


def validate_topic(topic: str) -> str:
    """Return ``topic`` if it can be published to, else raise :class:`InvalidTopic`."""
    _check_string(topic, "topic", InvalidTopic)
    for ch in "+#":
        if ch in topic:
            raise InvalidTopic(
                f"the topic {topic!r} contains {ch!r}: wildcards belong in filters only"
            )
    return topic


def _split_shared(topic_filter: str) -> tuple[str | None, str]:
    """``$share/{group}/{filter}`` → (group, filter); anything else → (None, filter)."""
    if not topic_filter.startswith(_SHARE):
        return None, topic_filter
    group, sep, rest = topic_filter[len(_SHARE) :].partition("/")
    if not sep or group == "" or rest == "":
        raise InvalidFilter(
            f"the shared subscription {topic_filter!r} needs the form $share/GROUP/FILTER"
        )
    if "+" in group or "#" in group:
        raise InvalidFilter(f"the share group {group!r} may not contain '+' or '#'")
    return group, rest


def validate_filter(topic_filter: str) -> str:
    """Return ``topic_filter`` if it is a valid MQTT topic filter (a shared
    subscription ``$share/GROUP/FILTER`` included), else raise :class:`InvalidFilter`
    saying what is wrong: ``+`` must fill a whole level, ``#`` must fill the last one."""
    _check_string(topic_filter, "filter", InvalidFilter)
    _, plain = _split_shared(topic_filter)
    levels = plain.split("/")
    last = len(levels) - 1
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != last):
            raise InvalidFilter(
                f"the filter {topic_filter!r} has '#' in level {i + 1}: "
                "'#' must be a whole level and the last one (e.g. 'a/#')"
            )
        if "+" in level and level != "+":
            raise InvalidFilter(
                f"the filter {topic_filter!r} has '+' inside the level {level!r}: "
                "'+' must be a whole level (e.g. 'a/+/c')"
            )
    return topic_filter


def has_wildcards(topic_filter: str) -> bool:
    return "+" in topic_filter or "#" in topic_filter


def _not_system(topic: str) -> bool:
    return not topic.startswith("$")


@lru_cache(maxsize=1024)
def compile_filter(topic_filter: str) -> TopicMatcher:
    """A function ``topic -> bool`` for a valid filter, cached per filter. Raises
    :class:`InvalidFilter`. As the spec says, a filter starting with a wildcard does
    not match topics starting with ``$`` (``#`` does not see ``$SYS/...``), and
    ``a/#`` matches ``a`` itself."""
    validate_filter(topic_filter)
    _, plain = _split_shared(topic_filter)
    if not has_wildcards(plain):
        return plain.__eq__
    if plain == "#":
        return _not_system
    levels = plain.split("/")
    if "+" not in levels:  # "a/b/#": a prefix test beats any regex
        prefix = plain[:-2]
        below = prefix + "/"
        return lambda topic: topic == prefix or topic.startswith(below)
    tail = ""
    if levels[-1] == "#":
        levels.pop()
        tail = "(?:/.*)?"
    body = "/".join("[^/]*" if level == "+" else re.escape(level) for level in levels)
    guard = r"(?!\$)" if levels[0] == "+" else ""
    fullmatch = re.compile(guard + body + tail, re.DOTALL).fullmatch
    return lambda topic: fullmatch(topic) is not None


def matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches ``topic_filter`` (see :func:`compile_filter`)."""
    return compile_filter(topic_filter)(topic)
