"""A minimal chat client written from the protocol v1 text alone (docs/protocol.md as
it stood for version 1), sharing no code with mqchat: plain aiomqtt and json. It is
what another implementation of v1 would do, so tests can hold mqchat v2 to chatting
with it both ways, with presence.

It connects with the v1 Will, says online, subscribes to its inbox (QoS 1 for its
friend, QoS 0 for everyone), accepts friend requests, answers texts with a
``delivered`` receipt, and ignores any envelope type it does not know."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiomqtt

__all__ = ["V1Peer", "v1_peer"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class V1Peer:
    user: str
    ns: str
    client: aiomqtt.Client
    texts: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    presence: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def envelope(self, kind: str, to: str, **extra: Any) -> dict[str, Any]:
        return {"v": 1, "id": str(uuid.uuid4()), "type": kind, "from": self.user, "to": to,
                "ts": _now(), **extra}  # fmt: skip

    async def send(self, kind: str, to: str, **extra: Any) -> dict[str, Any]:
        env = self.envelope(kind, to, **extra)
        topic = f"{self.ns}/u/{to}/inbox/{self.user}"
        await self.client.publish(topic, json.dumps(env).encode(), qos=1)
        return env

    async def befriend(self, peer: str) -> None:
        """Ask ``peer`` (retained on their requests topic, and on their inbox)."""
        env = self.envelope("friend_request", peer, name=self.user.title())
        data = json.dumps(env).encode()
        await self.client.publish(f"{self.ns}/u/{peer}/requests/{self.user}", data, 1, True)
        await self.client.publish(f"{self.ns}/u/{peer}/inbox/{self.user}", data, qos=1)
        await self.client.subscribe(f"{self.ns}/u/{self.user}/inbox/{peer}", qos=1)
        await self.client.subscribe(f"{self.ns}/u/{peer}/presence", qos=0)

    async def wait(self, check: Any, timeout: float = 10.0) -> Any:
        async def scan() -> Any:
            while not (found := check()):
                self.changed.clear()
                await self.changed.wait()
            return found

        return await asyncio.wait_for(scan(), timeout)

    async def _read(self) -> None:
        async for message in self.client.messages:
            topic = str(message.topic)
            payload = message.payload if isinstance(message.payload, bytes) else b""
            levels = topic.split("/")
            if topic.endswith("/presence"):
                self.presence[levels[-2]] = json.loads(payload) if payload else {}
            elif f"/u/{self.user}/inbox/" in topic:
                env = json.loads(payload)
                if env.get("from") != levels[-1] or env.get("to") != self.user:
                    continue  # the v1 sender check
                match env.get("type"):
                    case "text":
                        self.texts.append(env)
                        await self.send("receipt", env["from"], ids=[env["id"]],
                                        status="delivered")  # fmt: skip
                    case "receipt":
                        self.receipts.append(env)
                    case "friend_request":
                        await self.send("friend_accept", env["from"], name=self.user.title())
                    case "friend_accept" | "typing":
                        pass
                    case _:
                        self.ignored.append(str(env.get("type")))
            self.changed.set()


@contextlib.asynccontextmanager
async def v1_peer(port: int, user: str, ns: str) -> AsyncIterator[V1Peer]:
    offline = {"v": 1, "state": "offline", "ts": _now(), "lost": True}
    will = aiomqtt.Will(f"{ns}/u/{user}/presence", json.dumps(offline).encode(), 1, True)
    client = aiomqtt.Client(
        "127.0.0.1", port, identifier=f"v1-{user}", will=will, clean_session=False
    )
    async with client:
        peer = V1Peer(user, ns, client)
        await client.subscribe(f"{ns}/u/{user}/inbox/+", qos=0)
        online = {"v": 1, "state": "online", "ts": _now()}
        await client.publish(f"{ns}/u/{user}/presence", json.dumps(online).encode(), 1, True)
        reader = asyncio.create_task(peer._read())
        try:
            yield peer
            gone = {"v": 1, "state": "offline", "ts": _now()}
            await client.publish(f"{ns}/u/{user}/presence", json.dumps(gone).encode(), 1, True)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
