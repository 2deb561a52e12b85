"""The friend-request handshake as pure rules: what a contact becomes, and what we
answer, when we add someone or when their ``friend_request``, ``friend_accept`` or
first message arrives."""

from __future__ import annotations

from enum import StrEnum

from mqchat.core.model import ContactStatus

__all__ = ["Reply", "on_accept", "on_add", "on_message", "on_request"]

_S = ContactStatus


class Reply(StrEnum):
    NONE = "none"
    REQUEST = "friend_request"
    ACCEPT = "friend_accept"


def on_add(current: ContactStatus | None) -> tuple[ContactStatus, Reply]:
    """We add ``user`` (or accept them): a stranger is asked, a request is accepted."""
    if current is None:
        return _S.REQUESTED, Reply.REQUEST
    if current is _S.INCOMING:
        return _S.FRIEND, Reply.ACCEPT
    return current, Reply.NONE


def on_request(current: ContactStatus | None) -> tuple[ContactStatus, Reply]:
    """Their ``friend_request`` arrived. If we had asked them too, that is a yes from
    both sides; if they are already a friend they lost their side, so we confirm."""
    if current is None or current is _S.INCOMING:
        return _S.INCOMING, Reply.NONE
    return _S.FRIEND, Reply.ACCEPT


def on_accept(current: ContactStatus | None) -> ContactStatus | None:
    """Their ``friend_accept`` arrived: it counts only if we had asked them, so
    nobody can make themselves our friend."""
    return _S.FRIEND if current is _S.REQUESTED else current


def on_message(current: ContactStatus | None) -> ContactStatus:
    """Their text arrived: a stranger becomes a request, never a friend."""
    return _S.INCOMING if current is None else current
