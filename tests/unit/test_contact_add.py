"""Adding a contact whose friend request is stored at the same moment (by the
inbound side) accepts it, instead of leaving both sides waiting: a race that
faster storing of arrivals made frequent."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.model import Contact, ContactStatus


async def test_a_request_stored_between_the_look_and_the_insert_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        broker=parse_broker_url("mqtt://127.0.0.1:9"), user="alice", data_dir=tmp_path
    )
    service = ChatService(settings)  # not running: nothing is published
    try:
        store = await service.store()
        await store.add_contact("bob", status=ContactStatus.INCOMING)  # their request...
        look = store.contact
        looked = 0

        async def before_it_landed(user: str) -> Contact | None:
            nonlocal looked
            looked += 1
            return None if looked == 1 else await look(user)  # ...after add() looked

        monkeypatch.setattr(store, "contact", before_it_landed)
        added = await service.add_contact("bob")
        assert added.status is ContactStatus.FRIEND
        stored = await look("bob")
        assert stored is not None and stored.status is ContactStatus.FRIEND
        assert "bob" in service._outbound.introductions._accepts  # it goes out on connecting
    finally:
        await service.stop()
