"""What the inspector copies to the clipboard (``c`` a payload, ``C`` a topic): the
exact text, or base64 for a binary payload (not UTF-8, or with control characters
that a paste into a terminal would act on), and the words the toast says. The
terminal receives it as an OSC 52 sequence, which works over SSH; terminals cap how
much they take that way, so a payload beyond :data:`MAX_COPY` is refused politely."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from mqchat.inspector.payload import PayloadKind, detect

__all__ = ["MAX_COPY", "Clip", "payload_clip", "size_label", "topic_clip"]

MAX_COPY = 100_000
"""Characters copied at most: OSC 52 sends them base64 (a third more), and xterm,
tmux and most terminals drop or cut sequences much beyond that."""


@dataclass(frozen=True, slots=True)
class Clip:
    """``text`` to copy and ``said``: what the toast tells (``payload, 1.2 kB text``)."""

    text: str
    said: str


def size_label(count: int) -> str:
    """``512 B``, ``1.2 kB``, ``3.4 MB`` (decimal units, as the rest of the inspector)."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"


def payload_clip(payload: bytes, size: int | None = None) -> Clip | str:
    """The clip of ``payload`` (cut on capture when ``size``, its original length, is
    larger), or the one line that says why it is not copied."""
    total = len(payload) if size is None else max(size, len(payload))
    if detect(payload, limit=max(len(payload), 1)) is PayloadKind.BINARY:
        # Not UTF-8, or with control characters (escape sequences a paste would run).
        text, how = base64.b64encode(payload).decode("ascii"), "bytes as base64"
    else:
        text, how = payload.decode("utf-8"), "text"
    if len(text) > MAX_COPY:
        return (
            f"Not copied: {size_label(len(text))} is more than terminals take through OSC 52 "
            f"({size_label(MAX_COPY)}); e exports it to a file."
        )
    said = f"payload, {size_label(len(payload))} {how}"
    if total > len(payload):
        said += f" (the {size_label(len(payload))} the capture kept of {size_label(total)})"
    return Clip(text, said)


def topic_clip(topic: str) -> Clip | str:
    """The clip of ``topic`` (at most 65,535 bytes, so always under the limit)."""
    if len(topic) > MAX_COPY:
        return f"Not copied: the topic is longer than {size_label(MAX_COPY)}."
    return Clip(topic, f"topic, {size_label(len(topic.encode('utf-8', 'surrogatepass')))}")
