"""``mqchat search`` as a script uses it: the same options as ``history``, hits newest
first, plain lines or one JSON object per hit, and nothing found is no error."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mqchat.cli.main import main
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.paths import database_path
from mqchat.core.model import ChatMessage, DeliveryState, Direction
from mqchat.store import ChatStore

NOWHERE = "mqtt://127.0.0.1:1"
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("MQCHAT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MQCHAT_CONFIG", str(tmp_path / "none.toml"))


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so the printed times are the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def message(id: str, body: str, *, peer: str, seconds: int, out: bool = False) -> ChatMessage:
    return ChatMessage(
        id=id,
        peer=peer,
        direction=Direction.OUT if out else Direction.IN,
        sender="alice" if out else peer,
        recipient=peer if out else "alice",
        ts=T0 + timedelta(seconds=seconds),
        body=body,
        state=DeliveryState.DELIVERED if out else DeliveryState.READ,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"

    async def fill() -> None:
        path = database_path(folder, parse_broker_url(NOWHERE), "alice")
        async with await ChatStore.open(path, within=folder) as store:
            await store.add_messages(
                [
                    message("b1", "pizza tonight?", peer="bob", seconds=1),
                    message("b2", "Pizza, yes [red]🍕[/red]", peer="bob", seconds=2, out=True),
                    message("c1", "no pizza for me", peer="carol", seconds=3),
                    message("c2", "salad", peer="carol", seconds=4),
                ]
            )

    asyncio.run(fill())
    return folder


def search(data: Path, *args: str) -> int:
    return main(["search", *args, "--user", "alice", "--broker", NOWHERE, "--data-dir", str(data)])


def test_hits_of_every_conversation_newest_first(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert search(data, "PIZZ") == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-22 04:00:03  carol → alice: no pizza for me",
        "2026-11-22 04:00:02  alice → bob: Pizza, yes [red]🍕[/red] [delivered]",
        "2026-11-22 04:00:01  bob → alice: pizza tonight?",
    ]


def test_json_lines_have_the_fields_history_prints(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert search(data, "pizza", "--peer", "bob", "--json", "--limit", "1") == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {
        "id": "b2",
        "from": "alice",
        "to": "bob",
        "ts": "2026-11-22T04:00:02.000Z",
        "body": "Pizza, yes [red]🍕[/red]",
        "state": "delivered",
        "direction": "out",
    }
    history = ["history", "bob", "--user", "alice", "--broker", NOWHERE, "--data-dir", str(data)]
    assert main([*history, "--json"]) == 0
    assert line in capsys.readouterr().out.splitlines()  # the same object, field for field


@pytest.mark.parametrize("text", ["nothing", '"', "NEAR(", "*", "-", ""])
def test_nothing_found_is_no_line_and_exit_0(
    data: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    assert search(data, text) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("peer", "says"), [("no/slash", "peer name"), ("alice", "the peer is yourself")]
)
def test_a_bad_peer_is_one_line_and_exit_2(
    data: Path, capsys: pytest.CaptureFixture[str], peer: str, says: str
) -> None:
    assert search(data, "pizza", "--peer", peer) == 2
    err = capsys.readouterr().err
    assert err.startswith("mqchat: ") and says in err and err.count("\n") == 1


def test_a_limit_under_1_is_refused(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        search(data, "pizza", "--limit", "0")
    assert exited.value.code == 2
    assert "--limit: expected a whole number from 1 up, not '0'" in capsys.readouterr().err


def test_no_history_is_said_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert search(tmp_path / "empty", "pizza") == 1
    err = capsys.readouterr().err
    assert err.startswith("mqchat: no history for alice on 127.0.0.1:1") and err.count("\n") == 1


def test_history_says_what_was_edited_and_deleted(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def change() -> None:
        path = database_path(data, parse_broker_url(NOWHERE), "alice")
        async with await ChatStore.open(path, within=data) as store:
            await store.change_message(
                "b1", "bob", body="pizza at 8?", at=T0 + timedelta(minutes=1)
            )
            await store.change_message("b2", "alice", body=None, at=T0 + timedelta(minutes=2))

    asyncio.run(change())
    history = ["history", "bob", "--user", "alice", "--broker", NOWHERE, "--data-dir", str(data)]
    assert main(history) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-22 04:00:01  bob: pizza at 8? (edited)",
        "2026-11-22 04:00:02  alice: (message deleted) [delivered]",
    ]
    assert main([*history, "--json"]) == 0
    edited, deleted = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (edited["body"], edited["edited"]) == ("pizza at 8?", "2026-11-22T04:01:00.000Z")
    assert (deleted["body"], deleted["deleted"]) == ("", True)
    assert "deleted" not in edited and "edited" not in deleted
