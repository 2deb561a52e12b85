"""Pure functions that turn the inspector's model into Rich ``Text``: the rows of the
message log and the topic tree, the status line, and the small formatters (topic, time,
size, counts) every part shares; the detail of one message is ``detail_render.py``'s.
Every topic, payload and property comes from the network, so each goes through
``display_safe`` (directly or through the payload formatters) and stays literal text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from mqchat.core.text import display_safe
from mqchat.inspector.capture import Captured
from mqchat.inspector.payload import fit_width, preview
from mqchat.inspector.topic_tree import TreeRow
from mqchat.widgets.render import connection_text

__all__ = [
    "ALERT",
    "StatusFigures",
    "clock_ms",
    "human_size",
    "log_row",
    "plural",
    "safe_topic",
    "status_left",
    "status_right",
    "tree_row",
]


def safe_topic(topic: str) -> str:
    """A topic as one terminal-safe line."""
    return display_safe(topic).replace("\n", "⏎")


def clock_ms(ts: float) -> str:
    """``14:02:11.345`` in the local time zone."""
    try:
        local = datetime.fromtimestamp(ts)
    except (OverflowError, OSError, ValueError):
        return "--:--:--.---"
    return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def human_size(size: int) -> str:
    """``5 B``, ``12.3 kB``, ``1.2 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def plural(count: int, word: str) -> str:
    """``1 message``, ``2,000 messages``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# -- the message log ----------------------------------------------------------------


ALERT = "⚠"
"""Marks a row whose topic a watch rule holds in alert."""


def log_row(message: Captured, width: int, *, alert: bool = False) -> Text:
    """``14:02:11.345  Q1 R    5 B  home/room1/temperature  23.41``: time, QoS,
    retain flag, size, topic (at most 40 % of the row), payload preview; ``⚠`` after
    the time and in red when a watch rule holds the topic in alert."""
    gap = f"{ALERT} " if alert else "  "
    stamp = clock_ms(message.ts)
    head = f"{stamp}{gap}Q{message.qos} {'R' if message.retain else ' '} "
    size = f"{human_size(message.size):>8}  "
    text = Text(head, style="dim", end="", no_wrap=True)
    if message.retain:
        text.stylize("bold yellow", len(head) - 2, len(head) - 1)
    if alert:
        text.stylize("bold red", len(stamp), len(stamp) + 1)
    text.append(size)
    room = max(width - cell_len(head) - len(size), 0)
    topic = fit_width(safe_topic(message.topic), max(room * 2 // 5, 8))
    text.append(topic, style="bold red" if alert else "bold")
    rest = room - cell_len(topic) - 2
    if rest > 0:
        text.append("  ")
        text.append(preview(message.payload, rest, size=message.size))
    return text


# -- the topic tree -----------------------------------------------------------------


def tree_row(row: TreeRow, width: int, *, alert: int = 0) -> Text:
    """``  ▾ room1   23.41   1,234``: indent, ▾ open / ▸ closed, the level, the
    topic's last value (dim) and the subtree's message count on the right. ``alert``
    2: a watch rule holds this topic in alert (``⚠``, red); 1: a topic below it."""
    marker = ("▾ " if row.expanded else "▸ ") if row.has_children else "  "
    if alert == 2 and not row.has_children:
        marker = f"{ALERT} "
    if row.folded:
        marker = "✂ "  # the rest of a topic deeper than the tree goes, as one node
    indent = "  " * row.depth
    if len(indent) > width // 3:  # deep: the depth in figures, not a screenful of spaces
        indent = f"{row.depth}›".rjust(max(width // 3, 4))
    left = indent + marker
    count = f"{row.count:,}"
    room = width - cell_len(left) - len(count) - 1
    label = fit_width(row.label, max(min(room, max(room // 2, 12)), 1))
    text = Text(left, style="dim", end="", no_wrap=True)
    if row.folded:
        text.stylize("bold yellow", len(left) - 2)
    label_style = "bold" if row.is_topic else ""
    if alert:
        text.stylize("bold red", len(left) - 2)
        label_style = "bold red" if alert == 2 else "red"
    text.append(label, style=label_style)
    last_room = room - cell_len(label) - 2
    if row.last and last_room >= 4:
        text.append("  ")
        text.append(fit_width(row.last, last_room), style="cyan")
    pad = width - text.cell_len - len(count)
    text.append(" " * max(pad, 1))
    text.append(count, style="bold red" if alert else "dim")
    return text


# -- the status line ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusFigures:
    """What the status line shows."""

    broker: str
    subscriptions: Mapping[str, int]
    total: int
    rate: float
    paused: bool
    connection: ConnectionChanged
    dropped: int = 0
    topics: int = 0
    """Topics in the tree now."""
    max_topics: int = 0
    """The capture's cap on topics (0: not shown)."""
    forgotten_topics: int = 0
    forgotten_messages: int = 0
    """Topics forgotten at the cap, least recently updated first, and their messages."""
    recording: int | None = None
    """Messages recorded so far while the flight recorder is on (``None``: off)."""


def status_left(figures: StatusFigures) -> Text:
    """``broker:1883 · subscribed: home/#  mqchat/# (QoS 1)``."""
    text = Text(display_safe(figures.broker), style="bold", end="")
    text.append(" · subscribed: ", style="dim")
    if not figures.subscriptions:
        text.append("nothing (s subscribes)", style="yellow")
    for i, (topic_filter, qos) in enumerate(figures.subscriptions.items()):
        if i:
            text.append("  ")
        text.append(safe_topic(topic_filter), style="bold")
        if qos:
            text.append(f" (QoS {qos})", style="dim")
    return text


def status_right(figures: StatusFigures) -> Text:
    """``812,404 msgs · 21,530 msg/s · paused: no · ● connected``, with what was
    dropped or forgotten (:func:`_tree_full`) when anything was, and ``● REC n msgs``
    first while recording."""
    text = Text(end="")
    if figures.recording is not None:
        text.append(f"● REC {figures.recording:,} msgs", style="bold red")
        text.append(" · ")
    text.append(f"{figures.total:,} msgs · {figures.rate:,.0f} msg/s · ")
    if figures.dropped:
        text.append(f"{figures.dropped:,} dropped", style="bold red")
        text.append(" · ")
    if figures.max_topics and (figures.forgotten_topics or figures.topics >= figures.max_topics):
        text.append(_tree_full(figures), style="bold yellow")
        text.append(" · ")
    text.append("paused: ")
    if figures.paused:
        text.append("yes", style="bold reverse yellow")
    else:
        text.append("no")
    text.append(" · ")
    connection = figures.connection
    if connection.state is ConnectionState.CLOSED and connection.detail:
        text.append(f"○ {display_safe(connection.detail)}", style="bold")  # a recording
        return text
    text.append_text(connection_text(connection))
    if connection.state is ConnectionState.CONNECTED and connection.protocol == "3.1.1":
        text.append(" MQTT 3.1.1", style="yellow")
    return text


def _tree_full(figures: StatusFigures) -> str:
    """``tree full: 50,000 topics; 1,234 older topics (5,678 msgs) forgotten``."""
    text = f"tree full: {figures.max_topics:,} topics"
    if figures.forgotten_topics:
        text += (
            f"; {plural(figures.forgotten_topics, 'older topic')}"
            f" ({plural(figures.forgotten_messages, 'msg')}) forgotten"
        )
    return text
