"""Text from peers made safe to show: no terminal control, no reordering."""

from __future__ import annotations

__all__ = [
    "display_safe",
]


_CONTROL: dict[int, int | None] = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_CONTROL.update({0x7F: None, **{c: None for c in range(0x80, 0xA0)}})
_CONTROL[0x09] = 0x20  # a tab becomes a space: widths stay predictable
# Bidirectional overrides and isolates reorder what follows them on the line, so a
# peer could make their text (or the rest of ours) read differently than it is.
_CONTROL.update({c: None for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F))})
_CONTROL.update({c: None for c in range(0x2066, 0x206A)})


def display_safe(text: str) -> str:
    """``text`` without C0/C1 control characters (ESC, BEL, CSI…) and bidirectional
    overrides, so a peer's words can never drive the terminal or reorder the line.
    Newlines stay; markup is the renderer's concern."""
    return text.translate(_CONTROL)
