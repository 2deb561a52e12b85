"""A stand-in for the optional ``keyring`` package: a module with a backend of the
given priority and an in-memory store (or one that fails, like a locked keyring)."""

from __future__ import annotations

import types


def fake_keyring(priority: float, *, broken: bool = False) -> types.ModuleType:
    module = types.ModuleType("keyring")
    store: dict[tuple[str, str], str] = {}

    def get_password(service: str, account: str) -> str | None:
        if broken:
            raise RuntimeError("locked")
        return store.get((service, account))

    def set_password(service: str, account: str, password: str) -> None:
        if broken:
            raise RuntimeError("locked")
        store[(service, account)] = password

    module.get_keyring = lambda: types.SimpleNamespace(priority=priority)  # type: ignore[attr-defined]
    module.get_password = get_password  # type: ignore[attr-defined]
    module.set_password = set_password  # type: ignore[attr-defined]
    module.store = store  # type: ignore[attr-defined]
    return module
