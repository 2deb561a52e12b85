"""Pure functions that turn domain objects into Rich ``Text`` for the screens.

Every string that a peer controls goes through :func:`safe` here: it is stripped of
terminal control characters and kept as a literal ``Text`` (never parsed as markup)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rich.style import Style
from rich.text import Text

from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState, DeliveryState, Presence, PresenceState
from mqchat.core.text import display_safe, safe_body, safe_name

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_BODY_LINES",
    "MAX_NAME_CELLS",
    "OFFLINE_STYLE",
    "ONLINE_STYLE",
    "READ_STYLE",
    "REQUEST_STYLE",
    "TYPING_STYLE",
    "body_text",
    "clock_time",
    "connection_text",
    "day_label",
    "delivery_mark",
    "local_day",
    "name_text",
    "presence_text",
    "presence_words",
    "safe",
    "set_aside_note",
    "short_when",
]

ONLINE_STYLE = "green"
AWAY_STYLE = "yellow"
OFFLINE_STYLE = "dim"
READ_STYLE = "bold dodger_blue1"
REQUEST_STYLE = "bold magenta"
TYPING_STYLE = "italic green"

MAX_BODY_LINES = 40
MAX_BODY_CHARS = 4000
"""How much of one message is drawn: a huge body must not freeze the screen (the
whole of it stays stored)."""
_SAFE_HEAD_CHARS = 4 * MAX_BODY_CHARS
MAX_NAME_CELLS = 32
"""Display names are chosen by peers: longer ones are cut in headers and lists."""


def safe(text: str | None, style: str | Style = "") -> Text:
    """A peer's words as literal text: control characters removed, markup inert."""
    return Text(display_safe(text or ""), style=style, end="")


def name_text(name: str, style: str | Style = "", cells: int = MAX_NAME_CELLS) -> Text:
    """A peer-chosen name as literal text on one line (see
    :func:`~mqchat.core.text.safe_name`), cut to ``cells`` cells."""
    text = Text(safe_name(name), style=style, end="")
    text.truncate(max(1, cells), overflow="ellipsis")
    return text


def body_text(body: str) -> Text:
    """A message body as literal text (see :func:`~mqchat.core.text.safe_body`), at
    most :data:`MAX_BODY_LINES` lines and :data:`MAX_BODY_CHARS` characters, then a
    dim note of how much is not shown."""
    # Only the head is made safe (character by character, so slower than a cut): what
    # lies beyond it is never shown, only counted.
    text = safe_body(body[:_SAFE_HEAD_CHARS])
    beyond = max(0, len(body) - _SAFE_HEAD_CHARS)
    shown = text[:MAX_BODY_CHARS]
    newlines = -1
    for _ in range(MAX_BODY_LINES):
        newlines = shown.find("\n", newlines + 1)
        if newlines < 0:
            break
    else:
        shown = shown[:newlines]
    result = Text(shown, end="")
    hidden = len(text) - len(shown) + beyond
    if hidden > 0:
        result.append(f"\n… {hidden:,} more characters not shown", style="dim italic")
    return result


def _local(ts: datetime) -> datetime:
    """``ts`` in the local time zone; as it is when that would leave the calendar
    (0001-01-01 west of UTC, 9999-12-31 east of it)."""
    try:
        return ts.astimezone()
    except OverflowError:
        return ts


def clock_time(ts: datetime) -> str:
    """``HH:MM`` in the local time zone."""
    return _local(ts).strftime("%H:%M")


def local_day(ts: datetime) -> date:
    """The calendar day of ``ts`` in the local time zone."""
    return _local(ts).date()


def day_label(day: date, today: date) -> str:
    """``Today``, ``Yesterday``, else ``Tue 1 Dec 2026``: the title of a day separator."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')} {day.year:04d}"


def set_aside_note(claimed: datetime) -> Text:
    """``⚠ dated 9999-12-31 23:59 by their clock; shown when it arrived``: under a
    message whose sender's time was not believed."""
    local = _local(claimed)
    when = f"{local.year:04d}-" + local.strftime("%m-%d %H:%M")
    return Text(f"⚠ dated {when} by their clock; shown when it arrived", "yellow", end="")


def short_when(ts: datetime, now: datetime) -> str:
    """``HH:MM`` when ``ts`` is today (local time), else ``21 Nov`` or ``2025-11-21``."""
    local, today = _local(ts), _local(now)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local.strftime('%b')}"
    return f"{local.year:04d}-" + local.strftime("%m-%d")


def presence_words(
    presence: Presence | None, now: datetime, *, known: bool = True
) -> tuple[str, str, str]:
    """``(marker, words, style)`` of a presence: ``● online`` green, ``◐ away`` yellow,
    ``○ last seen 13:40`` / ``○ offline`` dim, ``◌ never seen`` dim. Not ``known``
    (we are not connected ourselves, so what we last heard may be stale, and the
    Wills a broker publishes as it goes down say "offline" of everyone): ``◌ unknown``
    dim."""
    if not known:
        return "◌", "unknown", OFFLINE_STYLE
    if presence is None:
        return "◌", "never seen", OFFLINE_STYLE
    if presence.state is PresenceState.ONLINE:
        return "●", "online", ONLINE_STYLE
    if presence.state is PresenceState.AWAY:
        return "◐", "away", AWAY_STYLE
    if presence.since is not None:
        return "○", f"last seen {short_when(presence.since, now)}", OFFLINE_STYLE
    return "○", "offline", OFFLINE_STYLE


def presence_text(presence: Presence | None, now: datetime, *, known: bool = True) -> Text:
    """``● online`` with its colour, for headers."""
    marker, words, style = presence_words(presence, now, known=known)
    return Text(f"{marker} {words}", style=style, end="")


_MARKS: dict[DeliveryState, tuple[str, str]] = {
    DeliveryState.PENDING: ("⏳", "yellow"),
    DeliveryState.SENT: ("✓", "dim"),
    DeliveryState.DELIVERED: ("✓✓", ""),
    DeliveryState.READ: ("✓✓", READ_STYLE),
    DeliveryState.FAILED: ("✗", "bold red"),
}


def delivery_mark(state: DeliveryState) -> Text:
    """⏳ pending, ✓ sent, ✓✓ delivered, blue ✓✓ read, ✗ failed; nothing for received."""
    mark, style = _MARKS.get(state, ("", ""))
    return Text(mark, style=style, end="")


def connection_text(event: ConnectionChanged) -> Text:
    """The connection state in words and colour, for the status bar."""
    detail = display_safe(event.detail)
    match event.state:
        case ConnectionState.CONNECTED:
            return Text("● connected", style=ONLINE_STYLE, end="")
        case ConnectionState.CONNECTING:
            return Text("◌ connecting…", style=AWAY_STYLE, end="")
        case ConnectionState.RETRYING:
            words = "○ disconnected"
            if event.retry_in is not None:
                words += f" — retrying in {max(0, round(event.retry_in))}s"
            else:
                words += " — retrying"
            return Text(f"{words}: {detail}" if detail else words, style="bold red", end="")
        case ConnectionState.FAILED:
            words = "✗ connection failed"
            return Text(f"{words}: {detail}" if detail else words, style="bold red", end="")
        case ConnectionState.CLOSED:
            return Text("○ disconnected", style=OFFLINE_STYLE, end="")
    return Text("○ not connected", style=OFFLINE_STYLE, end="")
