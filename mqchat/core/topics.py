"""The topic scheme of protocol v1 (docs/protocol.md#topics): every user's data lives under
``{ns}/u/{user}/``, and the last level of an inbox topic is the sender."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mqchat.core.names import InvalidUserName, validate_user_name

__all__ = [
    "DEFAULT_NAMESPACE",
    "ParsedTopic",
    "TopicKind",
    "device_topic",
    "devices_filter",
    "inbox_filter",
    "inbox_topic",
    "keys_filter",
    "keys_topic",
    "parse_topic",
    "presence_filter",
    "presence_topic",
    "profile_topic",
    "request_topic",
    "requests_filter",
    "validate_device_id",
    "validate_namespace",
]

DEFAULT_NAMESPACE = "mqchat"


def validate_namespace(ns: str) -> str:
    """A namespace is one or more topic levels without wildcards, e.g. ``mqchat`` or
    ``acme/chat``."""
    if not ns or any(ch in ns for ch in "+#\x00") or ns.startswith("$"):
        raise ValueError(f"invalid namespace {ns!r}: no '+', '#', NUL or leading '$'")
    if any(level == "" for level in ns.split("/")):
        raise ValueError(f"invalid namespace {ns!r}: empty topic level")
    return ns


def presence_topic(ns: str, user: str) -> str:
    return f"{ns}/u/{validate_user_name(user)}/presence"


def profile_topic(ns: str, user: str) -> str:
    return f"{ns}/u/{validate_user_name(user)}/profile"


def inbox_topic(ns: str, user: str, sender: str) -> str:
    """Where ``sender`` publishes messages for ``user``."""
    return f"{ns}/u/{validate_user_name(user)}/inbox/{validate_user_name(sender, what='sender')}"


def inbox_filter(ns: str, user: str) -> str:
    return f"{ns}/u/{validate_user_name(user)}/inbox/+"


def request_topic(ns: str, user: str, sender: str) -> str:
    """Where ``sender`` leaves its friend request for ``user``, retained: one per
    sender, however many it sends."""
    return f"{ns}/u/{validate_user_name(user)}/requests/{validate_user_name(sender, what='sender')}"


def requests_filter(ns: str, user: str) -> str:
    return f"{ns}/u/{validate_user_name(user)}/requests/+"


def device_topic(ns: str, user: str, device: str) -> str:
    """The retained record of one of ``user``'s devices (protocol v2): only ``user``
    writes and reads it."""
    return f"{ns}/u/{validate_user_name(user)}/devices/{validate_device_id(device)}"


def devices_filter(ns: str, user: str) -> str:
    return f"{ns}/u/{validate_user_name(user)}/devices/+"


def validate_device_id(device: str) -> str:
    """A device id is 1-32 of ``0-9 a-f`` (mqchat makes 12): safe as a topic level."""
    if not 0 < len(device) <= 32 or any(ch not in "0123456789abcdef" for ch in device):
        raise ValueError(f"invalid device id {device!r}: use 1-32 of 0-9 a-f")
    return device


def keys_topic(ns: str, user: str, device: str) -> str:
    """The retained, signed public keys of one of ``user``'s devices (protocol v3):
    ``user`` writes it, everybody reads it."""
    return f"{ns}/u/{validate_user_name(user)}/keys/{validate_device_id(device)}"


def keys_filter(ns: str) -> str:
    """Every device's keys in the namespace, as the roster has everyone's presence."""
    return f"{ns}/u/+/keys/+"


def presence_filter(ns: str) -> str:
    """Everyone's presence in the namespace (the retained messages form the roster)."""
    return f"{ns}/u/+/presence"


class TopicKind(StrEnum):
    PRESENCE = "presence"
    PROFILE = "profile"
    INBOX = "inbox"
    REQUEST = "requests"
    DEVICE = "devices"
    KEYS = "keys"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    kind: TopicKind
    user: str  # the owner of the subtree
    sender: str | None = None  # inbox and request topics only
    device: str | None = None  # device and keys topics only


def parse_topic(ns: str, topic: str) -> ParsedTopic | None:
    """Classify a topic of the scheme; ``None`` for anything else (foreign topics,
    wrong shapes, invalid user names)."""
    prefix = f"{ns}/u/"
    if not topic.startswith(prefix):
        return None
    levels = topic[len(prefix) :].split("/")
    try:
        match levels:
            case [user, "presence"]:
                return ParsedTopic(TopicKind.PRESENCE, validate_user_name(user))
            case [user, "profile"]:
                return ParsedTopic(TopicKind.PROFILE, validate_user_name(user))
            case [user, "devices" | "keys" as kind, device]:
                validate_device_id(device)
                return ParsedTopic(TopicKind(kind), validate_user_name(user), device=device)
            case [user, "inbox" | "requests" as kind, sender]:
                return ParsedTopic(
                    TopicKind(kind), validate_user_name(user), validate_user_name(sender)
                )
    except (InvalidUserName, ValueError):
        return None
    return None
