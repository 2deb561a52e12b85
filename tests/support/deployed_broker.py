"""A mosquitto deployed the way the README says: its mosquitto.conf and ACL are the
ones ``mqchat broker-config`` prints, its users made with ``mosquitto_passwd -b``.
And a raw paho client for playing the attacker, whose every wait is an awaitable
(the PUBACK's reason code, the next message) rather than a sleep."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from mqchat.broker.deploy_config import (
    ListenerTls,
    MosquittoConfig,
    render_acl,
    render_mosquitto_conf,
)
from tests.support.mosquitto import Mosquitto, free_port

__all__ = ["DeployedMosquitto", "RawClient", "RawConnectError", "Transport", "other_free_port"]

Transport = Literal["tcp", "websockets"]


@dataclass
class DeployedMosquitto(Mosquitto):
    """:class:`Mosquitto` started from the generated files instead of its own config;
    ``users`` (name → password) are required. Listens on 127.0.0.1 only."""

    namespace: str = "mqchat"
    tls: ListenerTls | None = None
    websockets_port: int | None = None
    config: MosquittoConfig | None = field(default=None, init=False)
    """What :meth:`start` rendered."""

    def start(self) -> DeployedMosquitto:
        assert self.users, "a deployment has logins"
        self.folder.mkdir(parents=True, exist_ok=True)
        passwd, acl = self.folder / "passwd", self.folder / "mqchat.acl"
        passwd.write_text("")
        for name, password in self.users.items():
            subprocess.run(["mosquitto_passwd", "-b", str(passwd), name, password], check=True)
        acl.write_text(render_acl(self.namespace))
        self.config = MosquittoConfig(
            port=self.port,
            bind="127.0.0.1",
            tls=self.tls,
            websockets_port=self.websockets_port,
            password_file=str(passwd),
            acl_file=str(acl),
            persistence_location=str(self.folder),
            namespace=self.namespace,
        )
        # Test-only lines after the generated file, none of which it sets itself.
        local = [f"log_dest file {self.folder / 'mosquitto.log'}", "log_type all"]
        if os.geteuid() == 0:
            local.append("user root")  # otherwise it drops to 'mosquitto' and cannot write here
        conf = self.folder / "mosquitto.conf"
        conf.write_text(render_mosquitto_conf(self.config) + "\n".join(local) + "\n")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for port in (self.port, self.websockets_port):
            if port is not None:
                self._wait_until_listening(port)
        return self


def other_free_port(*taken: int | None) -> int:
    while (port := free_port()) in taken:
        pass
    return port


class RawConnectError(Exception):
    """The connection was refused or lost before CONNACK; ``reason`` says how."""

    def __init__(self, reason: str, code: ReasonCode | None = None) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


class RawClient:
    """A paho client in its own network thread. Its callbacks hand results to the
    event loop, so a test awaits a PUBACK or a message while a ChatService in the
    same loop keeps running."""

    def __init__(
        self,
        port: int,
        user: str,
        password: str | None,
        *,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
        transport: Transport = "tcp",
        ca: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = port
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"raw-{user}-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
            transport=transport,
        )
        self.client.username_pw_set(user, password)
        if ca is not None:
            cert, key = client_cert or (None, None)
            self.client.tls_set(
                ca_certs=str(ca),
                certfile=str(cert) if cert else None,
                keyfile=str(key) if key else None,
            )
        self.messages: asyncio.Queue[mqtt.MQTTMessage] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._acks: dict[int, ReasonCode] = {}
        self._changed = asyncio.Event()
        self._connack: ReasonCode | None = None
        self._lost: str | None = None
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # Called in paho's thread: each hands over to the event loop.
    def _on_connect(self, _c: object, _u: object, _f: object, code: ReasonCode, _p: object) -> None:
        self._loop.call_soon_threadsafe(self._connected, code)

    def _on_disconnect(
        self, _c: object, _u: object, _f: object, code: ReasonCode, _p: object
    ) -> None:
        self._loop.call_soon_threadsafe(self._disconnected, str(code))

    def _on_publish(self, _c: object, _u: object, mid: int, code: ReasonCode, _p: object) -> None:
        self._loop.call_soon_threadsafe(self._acknowledged, mid, code)

    def _on_subscribe(
        self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._loop.call_soon_threadsafe(self._acknowledged, mid, codes[0])

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        self._loop.call_soon_threadsafe(self.messages.put_nowait, message)

    # In the event loop.
    def _connected(self, code: ReasonCode) -> None:
        self._connack = code
        self._changed.set()

    def _disconnected(self, reason: str) -> None:
        self._lost = reason
        self._changed.set()

    def _acknowledged(self, mid: int, code: ReasonCode) -> None:
        self._acks[mid] = code
        self._changed.set()

    async def _until(self, done: Callable[[], bool], timeout: float) -> None:
        async def wait() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def connect(self, timeout: float = 10.0) -> RawClient:
        """Connect and wait for CONNACK; raises :class:`RawConnectError` on a refusal or
        a connection lost first, and ssl errors as they come (certificate checks)."""
        await asyncio.to_thread(self.client.connect, "127.0.0.1", self.port, 10)
        self.client.loop_start()
        await self._until(lambda: self._connack is not None or self._lost is not None, timeout)
        if self._connack is None or self._connack.is_failure:
            self.close()
            raise RawConnectError(str(self._connack or self._lost), self._connack)
        return self

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> ReasonCode:
        """The broker's answer: the PUBACK's reason code (3.1.1: always success)."""
        info = self.client.publish(topic, payload, qos=qos)
        assert info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS, info.rc
        await self._until(lambda: info.mid in self._acks, 10.0)
        return self._acks.pop(info.mid)

    async def subscribe(self, topic_filter: str, qos: int = 1) -> ReasonCode:
        rc, mid = self.client.subscribe(topic_filter, qos=qos)
        assert rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None, rc
        await self._until(lambda: mid in self._acks, 10.0)
        return self._acks.pop(mid)

    async def next_message(self, timeout: float = 10.0) -> mqtt.MQTTMessage:
        return await asyncio.wait_for(self.messages.get(), timeout)

    @property
    def tls_version(self) -> str | None:
        sock = self.client.socket()
        version = getattr(sock, "version", None)
        return version() if callable(version) else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
