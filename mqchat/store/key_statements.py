"""The store's statements for end-to-end encryption (schema version 9), in plain SQL
on its own connections (see :mod:`mqchat.store.plain`): the public keys this device
trusts for each peer device, and where each peer's keys stand."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mqchat.store.writer import Work, Writer

__all__ = ["KeyBook", "StoredKey", "StoredTrust"]


@dataclass(frozen=True, slots=True)
class StoredKey:
    user: str
    device: str
    x25519: bytes
    ed25519: bytes


@dataclass(frozen=True, slots=True)
class StoredTrust:
    user: str
    sealed: bool = False
    """They sent us something sealed: nothing in plain text is taken from them now."""
    verified: bytes | None = None
    """The digest of their keys when the user verified them."""
    changed_ms: int | None = None
    """When their keys changed, not verified since."""


def _keys() -> Work[list[StoredKey]]:
    sql = "SELECT user, device, x25519, ed25519 FROM peer_keys ORDER BY user, device"
    return Work(lambda conn: [StoredKey(*row) for row in conn.execute(sql)], single=True)


def _trust() -> Work[list[StoredTrust]]:
    sql = "SELECT user, sealed, verified, changed_ms FROM peer_trust"

    def work(conn: sqlite3.Connection) -> list[StoredTrust]:
        return [StoredTrust(u, bool(s), v, c) for u, s, v, c in conn.execute(sql)]

    return Work(work, single=True)


def _replace_keys(user: str, keys: list[StoredKey], seen_ms: int) -> Work[None]:
    def work(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM peer_keys WHERE user = ?", (user,))
        conn.executemany(
            "INSERT INTO peer_keys (user, device, x25519, ed25519, seen_ms) VALUES (?, ?, ?, ?, ?)",
            [(user, k.device, k.x25519, k.ed25519, seen_ms) for k in keys],
        )

    return Work(work, single=False)


def _save_trust(trust: StoredTrust) -> Work[None]:
    sql = (
        "INSERT INTO peer_trust (user, sealed, verified, changed_ms) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user) DO UPDATE SET sealed = excluded.sealed, "
        "verified = excluded.verified, changed_ms = excluded.changed_ms"
    )
    params = (trust.user, trust.sealed, trust.verified, trust.changed_ms)

    def work(conn: sqlite3.Connection) -> None:
        conn.execute(sql, params)

    return Work(work, single=True)


class KeyBook:
    """The store's trusted keys (``ChatStore.keys``)."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def all(self) -> list[StoredKey]:
        return await self._writer.run(_keys())

    async def trust(self) -> list[StoredTrust]:
        return await self._writer.run(_trust())

    async def replace(self, user: str, keys: list[StoredKey], seen_ms: int) -> None:
        """``user``'s devices are ``keys`` from now on, all of them."""
        await self._writer.run(_replace_keys(user, keys, seen_ms))

    async def save_trust(self, trust: StoredTrust) -> None:
        await self._writer.run(_save_trust(trust))
