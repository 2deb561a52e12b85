"""Text from peers made safe to show: no terminal control, no reordering, no invisible
characters to hide behind, no towers of combining marks."""

from __future__ import annotations

import unicodedata

__all__ = [
    "MAX_BODY_MARKS",
    "MAX_NAME_MARKS",
    "display_safe",
    "preview",
    "safe_body",
    "safe_name",
]


_CONTROL: dict[int, int | None] = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_CONTROL.update({0x7F: None, **{c: None for c in range(0x80, 0xA0)}})
_CONTROL[0x09] = 0x20  # a tab becomes a space: widths stay predictable
# Bidirectional overrides and isolates reorder what follows them on the line, so a
# peer could make their text (or the rest of ours) read differently than it is.
_CONTROL.update({c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F))})
_CONTROL.update({c: None for c in range(0x2066, 0x206A)})

MAX_BODY_MARKS = 4
"""Combining marks kept on one character of a message: enough for Vietnamese or
pointed Hebrew, not for a "zalgo" tower that spills over the lines around it."""
MAX_NAME_MARKS = 2
"""Combining marks kept on one character of a display name (after NFC)."""

_ZWNJ, _ZWJ = "\u200c", "\u200d"
_MARKS = frozenset({"Mn", "Me"})
_LETTERS = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me"})
_EMOJI_MODIFIERS = frozenset({"\ufe0f", *map(chr, range(0x1F3FB, 0x1F400))})
# Characters that draw nothing but are not format characters (category Cf): fillers
# and blanks a name could be made of, variation selectors, the grapheme joiner.
_INVISIBLE = frozenset(
    {
        *"\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0",
        *map(chr, range(0xFE00, 0xFE10)),
        *map(chr, range(0xE0100, 0xE01F0)),
    }
)


def display_safe(text: str) -> str:
    """``text`` without C0/C1 control characters (ESC, BEL, CSI…) and bidirectional
    overrides, so a peer's words can never drive the terminal or reorder the line.
    Newlines stay; markup is the renderer's concern."""
    return text.translate(_CONTROL)


def _joins(before: str, joiner: str, after: str) -> bool:
    """Whether a single zero-width (non-)joiner between ``before`` and ``after`` does
    its job: inside an emoji sequence (👨‍👩‍👧) or between two letters (Indic, Persian)."""
    if not before or not after:
        return False
    cat_before, cat_after = unicodedata.category(before), unicodedata.category(after)
    if joiner == _ZWJ and cat_after == "So" and (cat_before == "So" or before in _EMOJI_MODIFIERS):
        return True
    return cat_before in _LETTERS and cat_after[0] == "L"


def _without_invisibles(text: str) -> str:
    """``text`` without format characters (category Cf), blank fillers and variation
    selectors: what a name keeps."""
    category = unicodedata.category
    return "".join(ch for ch in text if ch not in _INVISIBLE and category(ch) != "Cf")


def _cap_marks(text: str, limit: int) -> str:
    """``text`` with at most ``limit`` combining marks on each character."""
    out: list[str] = []
    marks = 0
    for ch in text:
        if unicodedata.category(ch) in _MARKS:
            marks += 1
            if marks > limit:
                continue
        else:
            marks = 0
        out.append(ch)
    return "".join(out)


def _clean_body(text: str) -> str:
    """What :func:`safe_body` does after :func:`display_safe`, in one pass."""
    category = unicodedata.category
    out: list[str] = []
    marks = 0
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch < "\u0300" and ch != "\xad":  # Latin and the like: neither mark nor format
            marks = 0
        elif (kind := category(ch)) in _MARKS:
            marks += 1
            if marks > MAX_BODY_MARKS:
                continue
        elif kind == "Cf":  # dropped unless it joins; a dropped one leaves no trace
            if ch not in (_ZWJ, _ZWNJ):
                continue
            if not _joins(out[-1] if out else "", ch, text[i + 1] if i < last else ""):
                continue
            marks = 0
        else:
            marks = 0
        out.append(ch)
    return "".join(out)


def safe_body(text: str) -> str:
    """A message body fit to show: :func:`display_safe`, then invisible format
    characters (zero-width space, word joiner, BOM, tags…) removed, a zero-width
    joiner or non-joiner kept only where it joins (an emoji sequence, two letters:
    a run of them is one at most), and at most :data:`MAX_BODY_MARKS` combining marks
    per character. Idempotent."""
    text = display_safe(text)
    return text if text.isascii() else _clean_body(text)


def safe_name(name: str) -> str:
    """A peer-chosen name fit to show on one line: :func:`display_safe`, every format
    character (zero-width ones and joiners included) and blank filler removed, NFC,
    at most :data:`MAX_NAME_MARKS` combining marks per character, and every run of
    white space one space, trimmed. May be empty (then show the user name).
    Idempotent."""
    text = display_safe(name)
    if not text.isascii():
        text = unicodedata.normalize("NFC", _without_invisibles(text))
        text = _cap_marks(text, MAX_NAME_MARKS)
    return " ".join(text.split())


def preview(body: str, cells: int = 100) -> str:
    """The first line of ``body``, without control characters, cut to ``cells``."""
    lines = display_safe(body).strip().splitlines() or [""]
    first = lines[0]
    more = len(lines) > 1
    if len(first) > cells:
        first, more = first[: cells - 1], True
    return first + ("…" if more else "")
