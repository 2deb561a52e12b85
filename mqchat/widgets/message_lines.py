"""One message of a conversation log as it is drawn: the time, who wrote it, the
body wrapped under itself (or "message deleted"), "(edited)", a lock when it travelled
end-to-end encrypted, and the delivery mark.
Pure functions of the message and the width, for
:class:`~mqchat.widgets.log_window.LogWindow`, which keeps their lines."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from mqchat.core.model import ChatMessage, DeliveryState
from mqchat.core.rooms import is_room_key
from mqchat.widgets.render import body_text, clock_time, delivery_mark, safe, set_aside_note

__all__ = [
    "DELETED",
    "EDITED",
    "MARK_CELLS",
    "SEALED",
    "message_body",
    "message_plain",
    "message_texts",
]

MARK_CELLS = 2


DELETED = "message deleted"
EDITED = "(edited)"
SEALED = "🔒"
"""After a message that travelled end-to-end encrypted (protocol v3): at the end of
its body, where "(edited)" goes, so the columns of every message stay where they
were; one that was not sealed shows nothing there."""


def message_body(message: ChatMessage) -> Text:
    """What is drawn of the body: dimmed "(edited)" after an edited one, then a dim
    lock after a sealed one (:data:`SEALED`); and under
    it, for a message whose sender's time was set aside, the time they claimed (see
    :func:`~mqchat.widgets.render.set_aside_note`). A deleted message is a dimmed
    italic "message deleted", whoever sent it."""
    if message.deleted:
        return Text(DELETED, style="dim italic", end="")
    body = body_text(message.body)
    if message.edited is not None:
        body.append(" ")
        body.append(EDITED, style="dim")
    if message.sealed:
        body.append(" ")
        body.append(SEALED, style="dim")
    if message.claimed_ts is not None:
        body.append("\n")
        body.append_text(set_aside_note(message.claimed_ts))
    return body


def _who(message: ChatMessage, peer_label: str) -> str:
    """Who wrote it, as the log says: the peer, or in a room the member."""
    return message.sender if is_room_key(message.peer) else peer_label


def _sender(message: ChatMessage, peer_label: str, cells: int) -> Text:
    text = (
        Text("you", style="bold cyan", end="")
        if message.outgoing
        else safe(_who(message, peer_label), "bold green")
    )
    text.truncate(cells, overflow="ellipsis", pad=True)
    return text


def message_texts(
    message: ChatMessage,
    state: DeliveryState,
    peer_label: str,
    sender_width: int,
    width: int,
    console: Console,
    body: Text | None = None,
) -> list[Text]:
    """``14:01 you    yes, on my way   ✓✓``, each line exactly ``width`` cells: the
    body wraps (long words fold) under itself, the mark stays on the first line."""
    body = body if body is not None else message_body(message)
    indent = 1 + 5 + 1 + sender_width + 1
    body_width = max(1, width - indent - 1 - MARK_CELLS - 1)
    wrapped = list(body.wrap(console, body_width, overflow="fold")) or [Text()]
    mark = delivery_mark(state) if message.outgoing and not message.deleted else Text()
    mark.align("right", MARK_CELLS)
    lines = []
    for number, part in enumerate(wrapped):
        line = Text(" ", end="")
        if number == 0:
            line.append(clock_time(message.ts), style="dim")
            line.append(" ")
            line.append_text(_sender(message, peer_label, sender_width))
            line.append(" ")
        else:
            line.append(" " * (indent - 1))
        part.rstrip()
        part.truncate(body_width, pad=True)
        line.append_text(part)
        line.append(" ")
        line.append_text(mark if number == 0 else Text(" " * MARK_CELLS))
        line.truncate(width, pad=True)
        lines.append(line)
    return lines


def message_plain(
    message: ChatMessage, state: DeliveryState, peer_label: str, body: Text | None = None
) -> str:
    """What a message says on one line, as plain text (for tests and screen readers)."""
    mark = delivery_mark(state).plain if message.outgoing and not message.deleted else ""
    sender = "you" if message.outgoing else _who(message, peer_label)
    body = body if body is not None else message_body(message)
    return f"{clock_time(message.ts)} {sender} {body.plain} {mark}"
