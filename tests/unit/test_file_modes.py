"""Everything mqchat writes is its owner's only, whatever the umask: folders 0700,
files 0600 (the history with SQLite's -wal and -shm, the session lock, exports, the
config file, a local broker's folder)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mqchat.chat.session_lock import SessionLock
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.profiles import Profile, save_profile
from mqchat.config.settings import Settings
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.inspector.capture import Captured
from mqchat.inspector.export import export_jsonl
from mqchat.store import ChatStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask000", "umask022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def _message() -> ChatMessage:
    return ChatMessage(
        id="m1",
        peer="bob",
        direction=Direction.IN,
        sender="bob",
        recipient="alice",
        ts=datetime(2026, 12, 6, tzinfo=UTC),
        body="the secret plan",
        state=DeliveryState.RECEIVED,
    )


async def test_the_history_and_its_sqlite_files_are_private(tmp_path: Path, umask: int) -> None:
    settings = Settings(
        broker=parse_broker_url("mqtt://127.0.0.1:1884"), user="alice", data_dir=tmp_path / "d"
    )
    db = settings.database
    store = await ChatStore.open(db, within=settings.data_dir)
    try:
        await store.add_message(_message())
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()  # open, so SQLite keeps them
        assert {p.name: mode(p) for p in (db, wal, shm)} == {
            db.name: 0o600,
            wal.name: 0o600,
            shm.name: 0o600,
        }
        assert mode(settings.data_dir) == mode(db.parent) == 0o700
    finally:
        await store.close()


async def test_an_open_data_folder_of_an_older_mqchat_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    db = data_dir / "h_1883" / "alice.sqlite3"
    store = await ChatStore.open(db)
    await store.add_message(_message())
    await store.close()
    for path in (data_dir, db.parent):
        os.chmod(path, 0o755)
    leftovers = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    for path in leftovers:
        path.touch()
        os.chmod(path, 0o644)
    store = await ChatStore.open(db, within=data_dir)
    try:
        assert mode(data_dir) == mode(db.parent) == 0o700
        assert [mode(p) for p in leftovers] == [0o600, 0o600, 0o600]
    finally:
        await store.close()


def test_the_session_lock_is_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "new" / "alice.lock"
    lock = SessionLock.try_acquire(path)
    assert lock is not None
    try:
        assert (mode(path), mode(path.parent)) == (0o600, 0o700)
        assert path.read_text() == f"{os.getpid()}\n"
    finally:
        lock.release()
    old = tmp_path / "old.lock"
    old.write_text("1\n")
    os.chmod(old, 0o644)
    again = SessionLock.try_acquire(old)
    assert again is not None
    again.release()
    assert mode(old) == 0o600


def test_an_export_is_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "exports" / "inspect-1.jsonl"
    assert export_jsonl(path, [Captured(1, 1.0, "home/t", b"21.5", 4)]) == 1
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    shared = tmp_path / "shared"  # a folder the user chose: not mqchat's to change
    shared.mkdir()
    os.chmod(shared, 0o755)
    over = shared / "given.jsonl"  # a file there, open to all before
    over.write_text("")
    os.chmod(over, 0o644)
    export_jsonl(over, [])
    assert (mode(over), mode(shared)) == (0o600, 0o755)


def test_the_config_file_is_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "config" / "mqchat" / "config.toml"
    save_profile(path, "work", Profile(broker="mqtt://h", user="alice"))
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    save_profile(path, "home", Profile(broker="mqtt://g", user="alice"))
    assert mode(path) == 0o600


async def test_a_local_brokers_folder_is_private(tmp_path: Path, umask: int) -> None:
    from mqchat.broker.runner import EMBEDDED_DATABASE, running_broker

    folder = tmp_path / "data" / "broker"
    async with running_broker("127.0.0.1", 0, embedded=True, data_dir=folder):
        assert mode(folder) == mode(folder.parent) == 0o700
        assert mode(folder / EMBEDDED_DATABASE) == 0o600
