"""The detail pane's diff view drawn as Rich ``Text``: what changed from the topic's
previous message (``inspector/diff.py``; binary payloads a codec decodes compared by
value), one coloured line per difference, or a plain line saying there is nothing to
compare with. The diff's texts are already
terminal-safe; ``Text`` never reads them as markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from mqchat.inspector.capture import Captured
from mqchat.inspector.codecs import Decoding, Format
from mqchat.inspector.diff import PayloadDiff, Sign, payload_diff, value_diff
from mqchat.inspector.document import payload_document
from mqchat.inspector.payload import PayloadKind, detect
from mqchat.widgets.inspector.render import clock_ms

__all__ = ["diff_body", "previous_message"]

_STYLES = {
    Sign.CHANGED: "yellow",
    Sign.ADDED: "green",
    Sign.REMOVED: "red",
    Sign.CONTEXT: "dim",
    Sign.HUNK: "cyan dim",
}


def previous_message(message: Captured, history: Sequence[Captured]) -> Captured | None:
    """The message of the same topic kept just before ``message`` (``None``: it is the
    first kept, or it is no longer kept)."""
    for index in range(len(history) - 1, 0, -1):
        if history[index].seq == message.seq:
            return history[index - 1]
    return None


def diff_body(
    message: Captured,
    previous: Captured | None,
    *,
    chosen: Format | None = None,
    decoding: Decoding | None = None,
) -> Text:
    """The diff of ``message`` against ``previous``, headed by when that came
    (``since 14:04:40.000``), what changed in all, and how it was compared. Binary
    payloads that both decode in the topic's format (``chosen``) or in the codec
    detected for ``message`` are compared by value, key path by key path."""
    if previous is None:
        return Text(
            "no previous message of this topic is kept: nothing to compare with",
            style="dim italic",
            end="",
        )
    cut = previous.size > len(previous.payload) or message.size > len(message.payload)
    diff = _decoded_diff(message, previous, chosen, decoding) if not cut else None
    if diff is None:
        diff = payload_diff(previous.payload, message.payload, cut=cut)
    text = Text(f"since {clock_ms(previous.ts)}: ", style="dim", end="")
    text.append(diff.summary, style="bold" if not diff.same else "dim")
    text.append(f"  ({diff.kind})", style="dim")
    if cut:
        text.append("\ncompared the bytes the capture kept (a payload was cut)", style="yellow")
    _lines(diff, text)
    return text


def _decoded_diff(
    message: Captured, previous: Captured, chosen: Format | None, decoding: Decoding | None
) -> PayloadDiff | None:
    """Both payloads compared by value when a codec decodes both, else ``None``."""
    if chosen is None and detect(message.payload) is not PayloadKind.BINARY:
        return None  # JSON and text compare better as such
    now = payload_document(message, chosen=chosen, decoding=decoding)
    if isinstance(now, str) or now.format is None:
        return None
    before = payload_document(previous, chosen=now.format, decoding=decoding)
    if isinstance(before, str):
        return None
    return value_diff(before.value, now.value, now.source)


def _lines(diff: PayloadDiff, text: Text) -> None:
    for line in diff.lines:
        text.append("\n")
        text.append(f"{line.sign.value} ", style=_STYLES[line.sign] + " bold")
        text.append(line.text, style=_STYLES[line.sign])
    if diff.more:
        text.append(f"\n… {diff.more:,} more", style="dim")
