"""A value of ``config.toml`` as an error message shows it: as TOML writes it, or a
table or an array by name."""

from __future__ import annotations

import json
from collections.abc import Mapping

__all__ = ["shown"]


def shown(value: object) -> str:
    """A value as it would be written in TOML (a table or an array by name)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)
