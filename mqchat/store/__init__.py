"""The chat's SQLite store. Only :class:`ChatStore` is meant for the rest of mqchat;
the ORM models and engine set-up stay inside this package."""

from __future__ import annotations

from mqchat.store.chat_store import ChatStore
from mqchat.store.sqlite_file import SchemaVersionError, StoreError, StoreOpenError

__all__ = ["ChatStore", "SchemaVersionError", "StoreError", "StoreOpenError"]
