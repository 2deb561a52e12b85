"""``mqchat demo`` without the TUI: its world (a private broker, Ada, Ben, the sensor)
as the person at the TUI meets it, through a real chat service; and the bots' words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.events import ChatReceived, PresenceChanged
from mqchat.core.model import ContactStatus, PresenceState
from mqchat.demo.bots import NAMES, SENSOR_TOPICS, answer
from mqchat.demo.world import DemoWorld
from mqchat.widgets.contact_list import contact_label
from tests.support.chat_session import connected_service
from tests.support.mosquitto import require_mosquitto

pytestmark = pytest.mark.broker


def test_ada_understands_a_few_things() -> None:
    now = datetime(2026, 11, 30, 14, 5, 9, tzinfo=UTC)
    assert answer("Hi Ada", now).startswith("Hello! I'm Ada")
    local = now.astimezone()  # the time the TUI shows next to the message
    assert answer("what time is it?", now) == f"It is {local:%H:%M:%S} here."
    inspector = answer("inspector?", now).lower()
    # keys that open it from the conversation the answer appears in (i would be typed)
    assert "ctrl+t" in inspector and "escape, then i" in inspector
    assert "press i" not in answer("hello", now).lower()
    assert answer("[b]bold[/b]", now) == "You said: “[b]bold[/b]”. (Try: hello, time, inspector.)"


def test_the_bots_read_as_people_do_in_headers() -> None:
    for user, name in NAMES.items():
        assert contact_label(user, name, friend=True).plain == f"{name} ({user})"


@pytest.fixture(params=["mosquitto", "embedded"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[DemoWorld, str]]:
    """The demo's world on mosquitto, and on the embedded broker (a machine with
    nothing but mqchat installed)."""
    embedded = request.param == "embedded"
    if not embedded:
        require_mosquitto()
    demo = DemoWorld(
        tmp_path, "you", embedded=embedded, ben_online=1.5, ben_offline=1.0, sensor_every=0.2
    )
    info = demo.start()
    yield demo, info.url
    demo.stop()


@asynccontextmanager
async def as_you(url: str, data: Path):  # type: ignore[no-untyped-def]
    settings = Settings(broker=parse_broker_url(url), user="you", data_dir=data)
    async with connected_service(settings) as (service, events, _):
        yield service, events


async def test_the_demo_has_friends_who_answer_and_come_and_go(
    world: tuple[DemoWorld, str], tmp_path: Path
) -> None:
    demo, url = world
    async with as_you(url, demo.data_dir) as (you, events):
        # befriended before the TUI opens
        contacts = {c.contact.user: c.contact.status for c in await you.contacts()}
        assert contacts == {"ada": ContactStatus.FRIEND, "ben": ContactStatus.FRIEND}
        await you.send_text("ada", "hello")
        reply = await events.wait_for(ChatReceived, lambda e: e.message.sender == "ada")
        assert reply.message.body.startswith("Hello! I'm Ada")
        # Ben goes away and comes back, and what was sent meanwhile reaches him
        await events.wait_for(
            PresenceChanged,
            lambda e: e.presence.user == "ben" and e.presence.state is PresenceState.OFFLINE,
        )
        await you.send_text("ben", "while you were away")
        got = await events.wait_for(ChatReceived, lambda e: e.message.sender == "ben", timeout=15)
        assert "while you were away" in got.message.body


async def test_the_sensor_publishes_readings(world: tuple[DemoWorld, str]) -> None:
    _, url = world
    broker = parse_broker_url(url)
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe("home/#")
        seen: dict[str, bytes] = {}
        async with asyncio.timeout(20):  # every 0.2 s; generous for a loaded machine
            async for message in client.messages:
                # amqtt 0.12 sends retained messages of other topics on a "#"
                # subscription too (docs/brokers.md#amqtt): only ours count here
                if str(message.topic) in SENSOR_TOPICS:
                    seen[str(message.topic)] = bytes(message.payload)  # type: ignore[arg-type]
                if len(seen) == len(SENSOR_TOPICS):
                    break
    assert SENSOR_TOPICS[0] in seen, seen
    assert float(seen[SENSOR_TOPICS[0]]) > 0
    assert b'"hum"' in seen[SENSOR_TOPICS[1]]
