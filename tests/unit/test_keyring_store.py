"""The optional keyring: used when there is one, quietly absent when not. The keyring
package is replaced by a small stand-in module (a unit test of pure glue)."""

from __future__ import annotations

import sys
import types

import pytest

from mqchat.config.keyring_store import (
    SERVICE,
    keyring_available,
    password_from_keyring,
    save_to_keyring,
)


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


def test_stores_and_finds_a_password_per_user_and_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    module = fake_keyring(5)
    monkeypatch.setitem(sys.modules, "keyring", module)
    assert keyring_available()
    assert save_to_keyring("alice", "mq.example.com:8883", "pw1")
    assert module.store == {(SERVICE, "alice@mq.example.com:8883"): "pw1"}  # type: ignore[attr-defined]
    assert password_from_keyring("alice", "mq.example.com:8883") == "pw1"
    assert password_from_keyring("alice", "other:1883") is None


@pytest.mark.parametrize("module", [None, fake_keyring(0), fake_keyring(5, broken=True)])
def test_no_keyring_or_a_broken_one_means_asking(
    monkeypatch: pytest.MonkeyPatch, module: types.ModuleType | None
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", module)  # None: the import fails
    assert password_from_keyring("alice", "h:1") is None
    assert not save_to_keyring("alice", "h:1", "pw")
