"""A room on a server deployed only from ``mqchat broker-config`` (TLS, passwords,
the ACL): dave, a valid user outside the room, gets nothing of it whatever he
subscribes to (``#`` included) and cannot post into it; mallory cannot post as
carol, nor edit or delete carol's messages (docs/protocol.md#rooms)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mqchat.broker.deploy_config import ListenerTls
from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions
from mqchat.core.envelope import Delete, Edit, encode_envelope
from mqchat.core.events import ChatReceived, Rejected, RoomChanged
from mqchat.core.ids import new_message_id
from mqchat.core.model import utc_now
from mqchat.core.room_envelopes import RoomText
from mqchat.core.wire import to_millis
from tests.support.chat_session import connected_service
from tests.support.deployed_broker import DeployedMosquitto, RawClient
from tests.support.mosquitto import free_port, require_mosquitto
from tests.support.recorder import Recorder
from tests.support.tls_ca import make_tls_files

pytestmark = pytest.mark.broker

USERS = {user: f"{user}-secret" for user in ("alice", "bob", "carol", "dave", "mallory")}
NOT_AUTHORIZED = 0x87


async def test_outsiders_and_impostors_get_nothing_of_a_room(
    tmp_path: Path, namespace: str
) -> None:
    require_mosquitto()
    files = make_tls_files(tmp_path / "tls")
    server = DeployedMosquitto(
        tmp_path / "broker", port=free_port(), users=USERS, namespace=namespace,
        tls=ListenerTls(str(files.server_cert), str(files.server_key)),
    ).start()  # fmt: skip
    url = f"mqtts://127.0.0.1:{server.port}"

    @asynccontextmanager
    async def chatting(user: str) -> AsyncIterator[tuple[ChatService, Recorder]]:
        settings = Settings(
            broker=parse_broker_url(url), user=user, password=USERS[user],
            data_dir=tmp_path / user, namespace=namespace, keepalive=5,
            tls=TlsOptions(cafile=files.ca),
        )  # fmt: skip
        async with connected_service(settings) as (service, events, _):
            yield service, events

    def raw(user: str) -> RawClient:
        return RawClient(server.port, user, USERS[user], ca=files.ca)

    try:
        async with chatting("alice") as (alice, _), chatting("bob") as (bob, on_bob), \
                chatting("carol") as (carol, on_carol):  # fmt: skip
            dave, mallory = await raw("dave").connect(), await raw("mallory").connect()
            try:
                for spy in ("#", f"{namespace}/#", f"{namespace}/u/+/inbox/+"):
                    await dave.subscribe(spy)
                room = await alice.create_room("secret plans", ["bob", "carol"])
                await on_bob.wait_for(RoomChanged, lambda e: e.room.id == room.id)
                await on_carol.wait_for(RoomChanged, lambda e: e.room.id == room.id)
                from_alice = await alice.send_room_text(room.id, "meet at the old mill")
                from_carol = await carol.send_room_text(room.id, "bring the map")
                for text in ("meet at the old mill", "bring the map"):
                    await on_bob.wait_for(ChatReceived, lambda e, t=text: e.message.body == t)

                # dave saw nothing of the room: a sentinel sent to him after it all
                # comes, and nothing before it.
                await bob.send_text("dave", "sentinel for dave")
                seen = []
                while b"sentinel for dave" not in (msg := await dave.next_message()).payload:
                    seen.append(msg)
                leaked = [m.topic for m in seen if room.id.encode() in m.payload
                          or b"old mill" in m.payload or b"secret plans" in m.payload]  # fmt: skip
                assert leaked == []

                # dave posts into the room (under his own name: the ACL lets him write to
                # carol's inbox), and carol refuses it.
                intrusion = RoomText(
                    id=new_message_id(), sender="dave", recipient="carol",
                    ts=to_millis(utc_now()), room=room.id, body="let me in",
                )  # fmt: skip
                code = await dave.publish(
                    f"{namespace}/u/carol/inbox/dave", encode_envelope(intrusion)
                )
                assert code.value == 0
                refused = await on_carol.wait_for(Rejected, lambda e: "not a member" in e.reason)
                assert "dave" in refused.reason

                # mallory posing as carol: the broker drops it (not authorized).
                forged = json.loads(encode_envelope(intrusion)) | {"from": "carol", "to": "bob"}
                code = await mallory.publish(
                    f"{namespace}/u/bob/inbox/carol", json.dumps(forged).encode()
                )
                assert code.value == NOT_AUTHORIZED

                # mallory editing or deleting carol's message, under her own name: bob
                # refuses both and counts them; carol's text stays.
                mark, before = len(on_bob.events), bob.rejected_count
                for change in (
                    Edit.new("mallory", "bob", from_carol.id, "the map is fake"),
                    Delete.new("mallory", "bob", from_carol.id),
                ):
                    code = await mallory.publish(
                        f"{namespace}/u/bob/inbox/mallory", encode_envelope(change)
                    )
                    assert code.value == 0
                await on_bob.wait_for(Rejected, lambda e: e.total == before + 2, since=mark)
                kept = await (await bob.store()).get_message(from_carol.id)
                assert kept is not None and kept.body == "bring the map" and not kept.deleted
                assert from_alice.peer == room.key
            finally:
                dave.close()
                mallory.close()
    finally:
        server.stop()
