"""Shared fixtures: a private mosquitto per session (tests use their own namespace) or
per test (tests that stop or restart the broker); the session's RabbitMQ node comes
from tests/support/brokers.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto, require_mosquitto

pytest_plugins = ["tests.support.brokers"]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One mosquitto for the session; isolate tests with the ``namespace`` fixture."""
    require_mosquitto()
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield server
    server.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto for this test alone, free to be stopped and restarted."""
    require_mosquitto()
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


@pytest.fixture
def namespace() -> str:
    """A topic namespace no other test uses, so tests never see each other's traffic."""
    return f"t{uuid.uuid4().hex[:10]}"
