"""Reconnecting: the wait between attempts is capped at 5 s, and ``reconnect_now``
(ctrl+r in the TUI) cuts a wait short once the broker is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mqchat.chat.reconnect import RECONNECT_CAP_S
from mqchat.chat.service import ChatService
from mqchat.core.backoff import Backoff
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState
from tests.support.chat_session import connected_service, settings_for
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def retrying(e: ConnectionChanged) -> bool:
    return e.state is ConnectionState.RETRYING


def connected(e: ConnectionChanged) -> bool:
    return e.state is ConnectionState.CONNECTED


async def test_reconnect_now_ends_a_long_wait(tmp_path: Path, namespace: str) -> None:
    broker = Mosquitto(tmp_path / "broker").start()
    try:
        settings = settings_for(broker, "alice", namespace, tmp_path)
        # A wait of a minute: only reconnect_now can make the test pass in time.
        slow = Backoff(initial=60.0, cap=60.0)
        async with connected_service(settings, backoff=slow) as (service, events, _):
            mark = len(events.events)
            service.reconnect_now()  # connected: nothing to do
            broker.stop()
            waiting = await events.wait_for(ConnectionChanged, retrying, since=mark)
            assert waiting.retry_in is not None and waiting.retry_in >= 30
            broker.start()
            mark = len(events.events)
            started = time.monotonic()
            service.reconnect_now()
            await events.wait_for(ConnectionChanged, connected, since=mark, timeout=10)
            assert time.monotonic() - started < 10
            assert slow.attempt == 0  # a fresh start: the next wait is short again
    finally:
        broker.stop()


def test_the_chat_waits_at_most_5_s_between_attempts(tmp_path: Path) -> None:
    from mqchat.config.broker_url import parse_broker_url
    from mqchat.config.settings import Settings

    service = ChatService(
        Settings(broker=parse_broker_url("mqtt://127.0.0.1:1"), user="alice", data_dir=tmp_path)
    )
    backoff = service._reconnect.backoff
    delays = [backoff.next_delay() for _ in range(20)]
    assert RECONNECT_CAP_S == 5.0
    assert max(delays) <= 5.0 and delays[-1] >= 2.5
