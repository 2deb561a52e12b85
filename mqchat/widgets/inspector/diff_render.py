"""The detail pane's diff view drawn as Rich ``Text``: what changed from the topic's
previous message (``inspector/diff.py``), one coloured line per difference, or a
plain line saying there is nothing to compare with. The diff's texts are already
terminal-safe; ``Text`` never reads them as markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from mqchat.inspector.capture import Captured
from mqchat.inspector.diff import PayloadDiff, Sign, payload_diff
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


def diff_body(message: Captured, previous: Captured | None) -> Text:
    """The diff of ``message`` against ``previous``, headed by when that came
    (``since 14:04:40.000``), what changed in all, and how it was compared."""
    if previous is None:
        return Text(
            "no previous message of this topic is kept: nothing to compare with",
            style="dim italic",
            end="",
        )
    cut = previous.size > len(previous.payload) or message.size > len(message.payload)
    diff = payload_diff(previous.payload, message.payload, cut=cut)
    text = Text(f"since {clock_ms(previous.ts)}: ", style="dim", end="")
    text.append(diff.summary, style="bold" if not diff.same else "dim")
    text.append(f"  ({diff.kind})", style="dim")
    if cut:
        text.append("\ncompared the bytes the capture kept (a payload was cut)", style="yellow")
    _lines(diff, text)
    return text


def _lines(diff: PayloadDiff, text: Text) -> None:
    for line in diff.lines:
        text.append("\n")
        text.append(f"{line.sign.value} ", style=_STYLES[line.sign] + " bold")
        text.append(line.text, style=_STYLES[line.sign])
    if diff.more:
        text.append(f"\n… {diff.more:,} more", style="dim")
