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
from tests.support.fake_keyring import fake_keyring


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
