"""The rule of protocol v2's ``edit`` and ``delete``: who may change a stored message,
and what it becomes. Pure, so the store applies it inside one transaction and the
tests state it without a database.

Ownership is one comparison, whichever way the message went: the envelope's sender
must be the target's sender. That covers a peer changing what they sent us, and our
own devices changing what we sent (a copy arriving on our own inbox)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from mqchat.core.model import ChatMessage

__all__ = ["Change", "Outcome", "apply_change", "judge"]


class Outcome(StrEnum):
    """What becomes of a change that arrived."""

    APPLIED = "applied"
    UNKNOWN = "unknown"
    """No such message here: ignored (on one topic QoS 1 keeps order, so a real
    target arrives before its changes; this one was never ours to see)."""
    NOT_THEIRS = "not_theirs"
    """The target was sent by someone else: refused and counted, like a spoof."""
    STALE = "stale"
    """The target is deleted already, or was edited later than this: ignored."""


class Change(StrEnum):
    EDIT = "edit"
    DELETE = "delete"


def judge(target: ChatMessage | None, sender: str, change: Change, at: datetime) -> Outcome:
    """Whether ``sender`` may make ``change`` (dated ``at``) to ``target``."""
    if target is None:
        return Outcome.UNKNOWN
    if target.sender != sender:
        return Outcome.NOT_THEIRS
    if target.deleted:
        return Outcome.STALE  # an edit after a delete, or a delete again
    if change is Change.EDIT and target.edited is not None and at < target.edited:
        return Outcome.STALE  # a later edit is shown already
    return Outcome.APPLIED


def apply_change(target: ChatMessage, body: str | None, at: datetime) -> ChatMessage:
    """``target`` edited to ``body`` at ``at``, or deleted when ``body`` is ``None``
    (its body emptied: nothing of it stays to be searched or shown)."""
    if body is None:
        return replace(target, body="", deleted=True)
    return replace(target, body=body, edited=at)
