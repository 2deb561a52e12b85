"""The brokers of the interop matrix (tests/broker/test_interop.py) as test targets:
each with what it is known to do, started on first use for the module (RabbitMQ
once per session) and stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mqchat.config.settings import MqttVersion
from tests.support.brokers import RABBITMQ_PASSWORD, EmbeddedServe, Nats, RabbitMQ, require_nats
from tests.support.mosquitto import Mosquitto, require_mosquitto

__all__ = ["Servers", "Target", "servers", "target"]


@dataclass(frozen=True)
class Target:
    """A broker under test and what it is known to do."""

    name: str
    url: str
    protocol: str
    """What the chat ends up speaking: "5", or "3.1.1" (forced, or after the fallback)."""
    version: MqttVersion | None = None
    """Forced on the client (-V); None: MQTT 5, and 3.1.1 if refused."""
    max_qos: int = 2
    redelivers_unacked: bool = True
    """An unacknowledged QoS 1 message comes again when the session reconnects."""
    password: str | None = None
    """Of every login, where the broker checks them (RabbitMQ)."""
    queued_typing_looks_fresh: bool = False
    """A typing hint (QoS 0) queued while its reader was away is handed over as a
    live one, so it shows: mosquitto and NATS queue no QoS 0 message, amqtt flags
    what it queued retained (which the chat drops), RabbitMQ neither."""

    @property
    def cli(self) -> list[str]:
        return ["--broker", self.url, *(["-V", self.version] if self.version else [])]


class Servers:
    """Each broker of the matrix, started on first use and stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.targets: dict[str, Target] = {}
        self._running: list[Mosquitto | Nats | EmbeddedServe] = []

    def get(self, name: str) -> Target:
        if name not in self.targets:
            self.targets[name] = self._start(name)
        return self.targets[name]

    def _start(self, name: str) -> Target:
        folder = self.folder / name
        if name.startswith("mosquitto"):
            require_mosquitto()
            mosquitto = Mosquitto(folder).start()
            self._running.append(mosquitto)
            if name == "mosquitto-3.1.1":
                return Target(name, mosquitto.url, "3.1.1", version="3.1.1")
            return Target(name, mosquitto.url, "5")
        if name == "embedded":
            embedded = EmbeddedServe(folder).start()
            self._running.append(embedded)
            # amqtt hands a message over once: no redelivery of what was not acked
            return Target(name, embedded.url, "3.1.1", redelivers_unacked=False)
        if name == "nats":
            require_nats()
            nats = Nats(folder).start()
            self._running.append(nats)
            # NATS redelivers after its ack_wait (30 s), not on reconnection
            return Target(name, nats.url, "3.1.1", max_qos=1, redelivers_unacked=False)
        raise ValueError(name)

    def stop(self) -> None:
        for server in reversed(self._running):
            server.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    started = Servers(tmp_path_factory.mktemp("interop"))
    yield started
    started.stop()


@pytest.fixture(params=["mosquitto-5", "mosquitto-3.1.1", "embedded", "nats", "rabbitmq"])
def target(request: pytest.FixtureRequest, servers: Servers) -> Target:
    if request.param == "rabbitmq":
        rabbitmq: RabbitMQ = request.getfixturevalue("rabbitmq")  # one node per session
        # MQTT 5 is refused (the connection closed unanswered), QoS 2 granted as 1
        return Target(
            "rabbitmq", rabbitmq.url, "3.1.1", max_qos=1, password=RABBITMQ_PASSWORD,
            queued_typing_looks_fresh=True,
        )  # fmt: skip
    return servers.get(request.param)
