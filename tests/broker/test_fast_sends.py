"""A burst of sends on a real mosquitto: several QoS 1 publishes in flight, yet the
peer gets every message once and in the order typed, and when the broker dies in
the middle of it, every message it had not acknowledged still arrives, once, in
the conversation's order; states end where receipts say."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from mqchat.chat.outbound import IN_FLIGHT
from mqchat.core.backoff import Backoff
from mqchat.core.events import ChatReceived, ConnectionChanged, MessageStateChanged
from mqchat.core.model import ConnectionState, DeliveryState
from mqchat.mqtt.session import Session
from tests.support.chat_session import befriend, connected_service, settings_for
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker


class InFlight:
    """Counts the texts published and not answered yet (awaiting their PUBACK)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.most = 0
        waiting: list[asyncio.Future[None]] = []
        publish_soon = Session.publish_soon

        def counting(session: Session, topic: str, payload: bytes) -> asyncio.Future[None]:
            waiting[:] = [f for f in waiting if not f.done()]
            waiting.append(publish_soon(session, topic, payload))
            self.most = max(self.most, len(waiting))
            return waiting[-1]

        monkeypatch.setattr(Session, "publish_soon", counting)


async def all_delivered(events: Recorder, ids: list[str], timeout: float = 30) -> None:
    waiting = set(ids)
    while waiting:
        event = await events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id in waiting and e.state is DeliveryState.DELIVERED,
            timeout=timeout,
        )
        waiting.discard(event.message_id)


async def test_a_burst_goes_out_several_at_a_time_and_arrives_in_order(
    broker: Mosquitto, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight = InFlight(monkeypatch)
    async with (
        connected_service(settings_for(broker, "alice", namespace, tmp_path)) as (alice, a, _),
        connected_service(settings_for(broker, "bob", namespace, tmp_path)) as (bob, b, _),
    ):
        await befriend(alice, a, bob, b)
        sent = [(await alice.send_text("bob", f"line {i}")).id for i in range(300)]
        await all_delivered(a, sent)
        assert [e.message.id for e in b.of(ChatReceived)] == sent
        assert 1 < in_flight.most <= IN_FLIGHT
        # every message went pending → sent → delivered, each state once
        for state in (DeliveryState.SENT, DeliveryState.DELIVERED):
            changed = [e.message_id for e in a.of(MessageStateChanged) if e.state is state]
            assert sorted(changed) == sorted(sent)
        history = await alice.history("bob", limit=300)
        assert [m.id for m in history] == sent
        assert {m.state for m in history} == {DeliveryState.DELIVERED}


async def test_a_burst_cut_by_a_broker_crash_arrives_once_and_in_order(
    tmp_path: Path, namespace: str
) -> None:
    broker = Mosquitto(tmp_path / "broker", extra_config="autosave_on_changes true\n")
    broker.extra_config += "autosave_interval 1\n"
    broker.start()
    quick = Backoff(initial=0.2, cap=1.0)
    try:
        alice_settings = settings_for(broker, "alice", namespace, tmp_path)
        bob_settings = settings_for(broker, "bob", namespace, tmp_path)
        async with (
            connected_service(alice_settings, backoff=quick) as (alice, a, _),
            connected_service(bob_settings, backoff=Backoff(initial=0.2, cap=1.0)) as (bob, b, _),
        ):
            await befriend(alice, a, bob, b)
            mark = len(a.events)
            sent = [(await alice.send_text("bob", f"line {i}")).id for i in range(400)]
            # The crash comes while the burst is on its way.
            await a.wait_for(MessageStateChanged, lambda e: e.state is DeliveryState.SENT)
            broker.stop(signal.SIGKILL)
            await a.wait_for(
                ConnectionChanged, lambda e: e.state is ConnectionState.RETRYING, since=mark
            )
            # What the broker acknowledged before it died is its own to keep (it may
            # not have saved the last of it); everything else is alice's to send again.
            acknowledged = {
                e.message_id
                for e in a.events[mark:]
                if isinstance(e, MessageStateChanged) and e.state is DeliveryState.SENT
            }
            broker.start()
            owed = [m for m in sent if m not in acknowledged]
            assert len(owed) > 100  # the crash came early enough to matter
            await all_delivered(a, owed, timeout=60)
            received = [e.message.id for e in b.of(ChatReceived)]
            assert len(received) == len(set(received))  # each once
            assert set(owed) <= set(received)
            # The conversation is in the order typed. (What arrives live may overtake
            # bob's backlog while the broker hands it over after his reconnect: the
            # copy on his QoS 0 inbox filter is not queued behind it.)
            history = await bob.history("alice", limit=400)
            assert [m.id for m in history] == [m for m in sent if m in set(received)]
    finally:
        broker.stop()
