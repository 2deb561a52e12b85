"""As another local user (``nobody``), nothing under the data folder, nor an export,
nor the config file can be read: a history written by ``mqchat send`` and kept open
by the chat (its SQLite -wal and -shm), the session lock, an inspector export."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
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
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker

NOBODY = 65534
SECRET = "the secret plan"

# Run as nobody: try to list every folder and read every file it is given, and say
# which it could.
_READER = """
import json, os, sys
readable = []
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as f:
                f.read()
    except OSError:
        continue
    readable.append(path)
print(json.dumps(readable))
"""


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A folder every user may enter, as a home directory often is (pytest's tmp
    folders are 0700, which would hide everything whatever mqchat does)."""
    base = Path(tempfile.mkdtemp(prefix="mqchat-privacy-"))
    os.chmod(base, 0o755)
    before = os.umask(0o022)  # the usual umask: files 0644 unless mqchat says otherwise
    try:
        yield base
    finally:
        os.umask(before)
        shutil.rmtree(base, ignore_errors=True)


def _as_nobody(paths: list[Path]) -> list[str]:
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    done = subprocess.run(
        [python, "-I", "-c", _READER, *map(str, paths)],
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    readable: list[str] = json.loads(done.stdout)
    return readable


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
async def test_another_local_user_reads_nothing(broker: Mosquitto, shared_base: Path) -> None:
    data = shared_base / "data"
    sent = mqchat("send", "bob", SECRET, "--user", "alice", "--broker", broker.url, data=data)
    assert sent.returncode == 0, sent.stderr
    settings = Settings(broker=parse_broker_url(broker.url), user="alice", data_dir=data)
    # The chat running meanwhile: its database open (-wal, -shm), its session lock held.
    store = await ChatStore.open(settings.database, within=data)
    lock = SessionLock.try_acquire(settings.database.with_suffix(".lock"))
    assert lock is not None
    try:
        await store.add_message(
            ChatMessage(
                id="m2",
                peer="bob",
                direction=Direction.IN,
                sender="bob",
                recipient="alice",
                ts=datetime.now(UTC),
                body=SECRET,
                state=DeliveryState.RECEIVED,
            )
        )
        export = data / "exports" / "inspect-1.jsonl"
        export_jsonl(export, [Captured(1, 1.0, "home/plan", SECRET.encode(), 15)])
        config = shared_base / "config" / "config.toml"
        save_profile(config, "work", Profile(broker=broker.url, user="alice"))
        written = [data, *sorted(data.rglob("*")), config.parent, config]
        names = {p.name for p in written}
        db = settings.database.name
        assert {db, f"{db}-wal", f"{db}-shm", "alice.lock", export.name} <= names
        assert _as_nobody(written) == []
        assert all(not stat.S_IMODE(p.stat().st_mode) & 0o077 for p in written)
        # the same check lets nobody read what is meant to be shared
        assert _as_nobody([shared_base]) == [str(shared_base)]
    finally:
        lock.release()
        await store.close()
