"""Pure renderers of end-to-end encryption (protocol v3) for the screens: whether a
conversation is sealed and verified, the warnings when it is not sealed or a peer's
keys changed, the friends list's badges, and a safety number laid out to be read
aloud. The words are the same everywhere, so a user learns them once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, NamedTuple

from rich.text import Text

from mqchat.core.trust import KeyTrust
from mqchat.widgets.render import clock_time, safe

__all__ = [
    "CHANGED",
    "CHANGED_STYLE",
    "ENCRYPTED",
    "LOCK",
    "PLAIN",
    "PLAIN_STYLE",
    "VERIFIED",
    "VERIFIED_STYLE",
    "TrustWarning",
    "contact_badge",
    "room_trust",
    "room_warning",
    "safety_rows",
    "trust_status",
    "trust_warning",
]

LOCK = "🔒"
ENCRYPTED = f"{LOCK} end-to-end encrypted"
VERIFIED = "✓ verified"
VERIFIED_STYLE = "bold green"
CHANGED_STYLE = "bold red"
PLAIN_STYLE = "yellow"
GROUPS_PER_ROW = 4
CHANGED: Final = "changed"
"""A warning's level: keys changed, not verified since (loud)."""
PLAIN: Final = "plain"
"""A warning's level: not encrypted (a plain warning)."""


class TrustWarning(NamedTuple):
    text: Text
    level: Literal["changed", "plain"]


def trust_status(trust: KeyTrust) -> Text:
    """``🔒 end-to-end encrypted · ✓ verified`` for a conversation's header; nothing
    for a peer without keys (:func:`trust_warning` says so, louder)."""
    if not trust.encrypted:
        return Text(end="")
    status = Text(ENCRYPTED, end="")
    if trust.verified:
        status.append(" · ")
        status.append(VERIFIED, style=VERIFIED_STYLE)
    return status


def trust_warning(peer: str, trust: KeyTrust, safety_key: str = "ctrl+k") -> TrustWarning | None:
    """What must not go unseen, under a conversation's header: ``peer``'s keys
    changed and are not verified since (:data:`CHANGED`), or nothing we send them is
    encrypted (:data:`PLAIN`); ``None`` when all is well. The screen colours it by
    its level. ``safety_key`` opens the safety number."""
    if trust.changed is not None:
        text = Text.assemble(
            "⚠ ",
            safe(peer),
            f"'s keys changed at {clock_time(trust.changed)} — compare safety numbers (",
            safety_key,
            ")",
            end="",
        )
        return TrustWarning(text, CHANGED)
    if not trust.encrypted:
        text = Text.assemble(
            "not encrypted: ", safe(peer), " has no keys (an older mqchat)", end=""
        )
        return TrustWarning(text, PLAIN)
    return None


def room_warning(trusts: Sequence[KeyTrust], safety_key: str = "ctrl+k") -> TrustWarning | None:
    """A room's members whose keys changed: ``⚠ keys changed: bob at 14:03 — …``."""
    changed = [t for t in trusts if t.changed is not None]
    if not changed:
        return None
    who = ", ".join(f"{t.user} at {clock_time(t.changed)}" for t in changed if t.changed)
    text = Text.assemble(
        "⚠ keys changed: ",
        safe(who),
        " — compare safety numbers in your conversation with them (",
        safety_key,
        ")",
        end="",
    )
    return TrustWarning(text, CHANGED)


def room_trust(trusts: Sequence[KeyTrust]) -> Text:
    """``🔒 encrypted for all members``, or ``not encrypted for: bob, carol`` (the
    members other than us who have no keys) in the warning colour."""
    plain = [t.user for t in trusts if not t.encrypted]
    if not plain:
        return Text(f"{LOCK} encrypted for all members", end="")
    return Text(f"not encrypted for: {', '.join(plain)}", style=PLAIN_STYLE, end="")


def contact_badge(trust: KeyTrust | None) -> Text:
    """The friends list's mark beside a name: a red ``⚠ keys changed``, a green
    ``✓`` for verified keys, else nothing."""
    if trust is None:
        return Text(end="")
    if trust.changed is not None:
        return Text("⚠ keys changed", style=CHANGED_STYLE, end="")
    if trust.verified and trust.encrypted:
        return Text("✓", style=VERIFIED_STYLE, end="")
    return Text(end="")


def safety_rows(number: str) -> list[str]:
    """The twelve groups of a safety number in three rows of four, as the two users
    read them to each other."""
    groups = number.split()
    return [" ".join(groups[i : i + GROUPS_PER_ROW]) for i in range(0, len(groups), GROUPS_PER_ROW)]
