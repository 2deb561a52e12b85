"""Where mqchat keeps its files: one SQLite database per broker and user."""

from __future__ import annotations

import hashlib
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
    any file system: other characters become ``_``, and a name over 255 characters
    (a host name may have 253) is cut and ends in a hash of the whole."""
    place = f"{broker.host}_{broker.port}"
    folder = re.sub(r"[^A-Za-z0-9_.-]", "_", place)
    if len(folder) > _MAX_NAME:
        digest = hashlib.sha256(place.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        folder = f"{folder[: _MAX_NAME - len(digest) - 1]}~{digest}"
    return data_dir / folder / f"{validate_user_name(user)}.sqlite3"


_MAX_NAME = 255
"""The longest file name most file systems take (ext4, APFS, NTFS: 255)."""
