"""What an inspector closed inside the chat hands to the next one it opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mqchat.inspector.codecs import Format
from mqchat.inspector.view import InspectorView

__all__ = ["Carried"]


@dataclass(frozen=True, slots=True)
class Carried:
    """What an inspector closed inside the chat hands to the next one opened: the
    capture (bounded as it was), the view filter, the subscriptions, the counts and
    the formats set with ``f``. Its connection was closed; the next one resumes."""

    shown: InspectorView
    filters: tuple[tuple[str, int], ...]
    received: int
    dropped: int
    formats: Mapping[str, Format]
