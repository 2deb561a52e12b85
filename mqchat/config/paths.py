"""Where mqchat keeps its files: one SQLite database per broker and user."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs

from mqchat.config.broker_url import BrokerUrl
from mqchat.core.names import validate_user_name

__all__ = ["database_path", "default_data_dir"]


def default_data_dir() -> Path:
    """The platform's user data folder (``~/.local/share/mqchat`` on Linux); the
    settings loader puts ``--data-dir`` and the environment over it."""
    return Path(platformdirs.user_data_dir("mqchat", appauthor=False))


def database_path(data_dir: Path, broker: BrokerUrl, user: str) -> Path:
    """``DATA_DIR/<host>_<port>/<user>.sqlite3``; the folder name is made safe for
    any file system."""
    folder = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{broker.host}_{broker.port}")
    return data_dir / folder / f"{validate_user_name(user)}.sqlite3"
