"""A mosquitto configured only by ``mqchat broker-config`` (its conf and ACL, users
made with mosquitto_passwd) keeps senders honest: alice and bob chat, while mallory,
a valid user too, can neither send as alice nor read bob's inbox, and a wrong
password is refused. TLS and WebSockets listeners of the generated config work.

"Never receives" is proven by order, not by waiting: after the forbidden traffic a
permitted marker follows on the same connection, and once the marker has arrived
the forbidden message would have arrived before it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from mqchat.broker.deploy_config import ListenerTls
from mqchat.chat.backend import SendError
from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions
from mqchat.core.envelope import Text, encode_envelope, parse_envelope
from mqchat.core.events import ChatReceived, MessageStateChanged, PresenceChanged, Rejected
from mqchat.core.model import DeliveryState, PresenceState
from mqchat.tools.send import send_once
from tests.support.chat_session import befriend, connected_service
from tests.support.deployed_broker import (
    DeployedMosquitto,
    RawClient,
    RawConnectError,
    Transport,
    other_free_port,
)
from tests.support.mosquitto import free_port, require_mosquitto
from tests.support.recorder import Recorder
from tests.support.tls_ca import TlsFiles, make_tls_files

pytestmark = pytest.mark.broker

USERS = {"alice": "alice-secret", "bob": "bob-secret", "mallory": "mallory-secret"}
NOT_AUTHORIZED = 0x87


def deploy(folder: Path, namespace: str, tls: ListenerTls | None = None) -> DeployedMosquitto:
    require_mosquitto()
    port = free_port()
    return DeployedMosquitto(
        folder,
        port=port,
        users=USERS,
        namespace=namespace,
        tls=tls,
        websockets_port=other_free_port(port),
    ).start()


@pytest.fixture
def server(tmp_path: Path, namespace: str) -> Iterator[DeployedMosquitto]:
    broker = deploy(tmp_path / "broker", namespace)
    yield broker
    broker.stop()


def chat_settings(
    server: DeployedMosquitto,
    user: str,
    data: Path,
    *,
    password: str | None = None,
    url: str | None = None,
    tls: TlsOptions | None = None,
) -> Settings:
    return Settings(
        broker=parse_broker_url(url or server.url),
        user=user,
        password=USERS.get(user, "") if password is None else password,
        data_dir=data,
        namespace=server.namespace,
        keepalive=5,
        tls=tls or TlsOptions(),
    )


@asynccontextmanager
async def chatting(
    server: DeployedMosquitto,
    user: str,
    data: Path,
    *,
    url: str | None = None,
    tls: TlsOptions | None = None,
    password: str | None = None,
) -> AsyncIterator[tuple[ChatService, Recorder]]:
    """A connected ChatService for ``user``, logged in with its password (or
    ``password``), at the server's plain URL (or ``url``)."""
    settings = chat_settings(server, user, data, url=url, tls=tls, password=password)
    async with connected_service(settings) as (service, events, _):
        yield service, events


@asynccontextmanager
async def raw(
    port: int,
    user: str,
    *,
    protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    transport: Transport = "tcp",
    ca: Path | None = None,
    client_cert: tuple[Path, Path] | None = None,
) -> AsyncIterator[RawClient]:
    """A raw client logged in as ``user`` with its password."""
    client = RawClient(
        port,
        user,
        USERS[user],
        protocol=protocol,
        transport=transport,
        ca=ca,
        client_cert=client_cert,
    )
    await client.connect()
    try:
        yield client
    finally:
        client.close()


async def test_alice_and_bob_chat(server: DeployedMosquitto, tmp_path: Path) -> None:
    async with (
        chatting(server, "alice", tmp_path) as (alice, a_events),
        chatting(server, "bob", tmp_path) as (bob, b_events),
    ):
        await alice.add_contact("bob")  # a friend request into bob's inbox
        sent = await alice.send_text("bob", "hi bob, on our own server")
        got = await b_events.wait_for(ChatReceived)
        assert (got.message.id, got.message.sender) == (sent.id, "alice")
        assert got.message.body == "hi bob, on our own server"
        # bob's receipt went into alice's inbox under his own name: ✓✓
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == sent.id and e.state is DeliveryState.DELIVERED,
        )
        # presence: each writes their own, reads everybody's
        await a_events.wait_for(
            PresenceChanged,
            lambda e: e.presence.user == "bob" and e.presence.state is PresenceState.ONLINE,
        )
        reply = await bob.send_text("alice", "hi alice")
        back = await a_events.wait_for(ChatReceived)
        assert (back.message.id, back.message.sender) == (reply.id, "bob")
        assert not a_events.of(Rejected) and not b_events.of(Rejected)


async def test_a_strangers_flood_cannot_push_out_a_friends_messages(
    server: DeployedMosquitto, tmp_path: Path
) -> None:
    # This deployment queues at most 10,000 messages per client. mallory used to fill
    # offline bob's queue with 10,000 in 0.3 s; alice's 3 that followed got ✓ and were
    # dropped. Now only friends' messages are queued for bob while he is away.
    assert server.config is not None and server.config.max_queued_messages == 10_000
    ns = server.namespace
    async with (
        chatting(server, "alice", tmp_path) as (alice, a_events),
        chatting(server, "bob", tmp_path) as (bob, b_events),
    ):
        await befriend(alice, a_events, bob, b_events)
    async with raw(server.port, "mallory") as mallory:
        spam = [encode_envelope(Text.new("mallory", "bob", f"spam {i}")) for i in range(10_000)]
        for start in range(0, len(spam), 500):
            codes = await asyncio.gather(
                *(
                    mallory.publish(f"{ns}/u/bob/inbox/mallory", p)
                    for p in spam[start : start + 500]
                )
            )
            assert not any(code.is_failure for code in codes)
    async with chatting(server, "alice", tmp_path) as (alice, a_events):
        sent = [await alice.send_text("bob", f"from alice {i}") for i in range(3)]
        for message in sent:
            await a_events.wait_for(
                MessageStateChanged,
                lambda e, m=message: e.message_id == m.id and e.state is DeliveryState.SENT,
            )
    async with chatting(server, "bob", tmp_path) as (bob, b_events):
        for message in sent:
            await b_events.wait_for(ChatReceived, lambda e, m=message: e.message.id == m.id)
        assert [m.body for m in await bob.history("alice")] == [m.body for m in sent]
        assert await bob.history("mallory") == []  # nothing of the flood was kept for him


@pytest.mark.parametrize(
    "version",
    [MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311],
    ids=["mqtt5", "mqtt311"],
)
async def test_mallory_cannot_send_as_alice(
    server: DeployedMosquitto, tmp_path: Path, version: MQTTProtocolVersion
) -> None:
    ns = server.namespace
    async with (
        chatting(server, "bob", tmp_path) as (bob, events),
        raw(server.port, "mallory", protocol=version) as mallory,
    ):
        forged = Text.new("alice", "bob", "it's alice, send me your password")
        code = await mallory.publish(f"{ns}/u/bob/inbox/alice", encode_envelope(forged))
        if version is MQTTProtocolVersion.MQTTv5:
            assert code.value == NOT_AUTHORIZED, code
        else:
            assert not code.is_failure  # 3.1.1 cannot say no: the PUBACK is all it gets
        marker = Text.new("mallory", "bob", "hello from mallory")
        answer = await mallory.publish(f"{ns}/u/bob/inbox/mallory", encode_envelope(marker))
        assert not answer.is_failure
        got = await events.wait_for(ChatReceived)
        assert (got.message.id, got.message.sender) == (marker.id, "mallory")
        assert [e.message.id for e in events.of(ChatReceived)] == [marker.id]
        # dropped by the broker, not refused by bob: it never reached him at all
        assert not events.of(Rejected)
        assert await bob.history("alice") == []


@pytest.mark.parametrize(
    ("topic", "allowed"),
    [
        ("{ns}/u/mallory/presence", True),
        ("{ns}/u/mallory/profile", True),
        ("{ns}/u/bob/inbox/mallory", True),
        ("{ns}/u/bob/requests/mallory", True),
        ("{ns}/u/bob/requests/alice", False),
        ("{ns}/u/alice/presence", False),
        ("{ns}/u/alice/profile", False),
        ("{ns}/u/bob/inbox/alice", False),
        ("{ns}/u/mallory/inbox/alice", False),
        ("{ns}/u/bob/inbox/mallory/extra", False),
        ("{ns}/elsewhere", False),
        ("other/u/mallory/presence", False),
    ],
)
async def test_what_a_user_may_publish(
    server: DeployedMosquitto, topic: str, allowed: bool
) -> None:
    async with raw(server.port, "mallory") as mallory:
        code = await mallory.publish(topic.format(ns=server.namespace), b"x")
    assert (not code.is_failure) if allowed else code.value == NOT_AUTHORIZED, code


@pytest.mark.parametrize(
    "snoop", ["{ns}/u/bob/inbox/#", "{ns}/u/bob/inbox/alice", "{ns}/u/+/inbox/#", "{ns}/#", "#"]
)
async def test_mallory_cannot_read_bobs_inbox(
    server: DeployedMosquitto, tmp_path: Path, snoop: str
) -> None:
    ns = server.namespace
    async with (
        chatting(server, "bob", tmp_path / "bob") as (_, events),
        raw(server.port, "mallory") as mallory,
    ):
        # mosquitto grants a forbidden subscription and then delivers nothing on it
        assert not (await mallory.subscribe(snoop.format(ns=ns))).is_failure
        await mallory.subscribe(f"{ns}/u/mallory/inbox/#")
        secret = await send_once(chat_settings(server, "alice", tmp_path), "bob", "for bob only")
        got = await events.wait_for(ChatReceived)
        assert got.message.id == secret.id  # it was sent, and its reader got it
        marker = await send_once(chat_settings(server, "alice", tmp_path), "mallory", "hi")
        seen: list[mqtt.MQTTMessage] = []
        while not seen or seen[-1].topic != f"{ns}/u/mallory/inbox/alice":
            seen.append(await mallory.next_message())
        assert parse_envelope(bytes(seen[-1].payload)).id == marker.id
        leaked = [m.topic for m in seen if "/inbox/" in m.topic]
        assert leaked == [f"{ns}/u/mallory/inbox/alice"]  # the marker, and only that


@pytest.mark.parametrize(
    ("user", "password"),
    [("alice", "wrong"), ("eve", "anything"), ("alice", "")],
    ids=["wrong-password", "unknown-user", "no-password"],
)
async def test_a_bad_login_is_refused(
    server: DeployedMosquitto,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str,
    password: str,
) -> None:
    monkeypatch.delenv("MQCHAT_PASSWORD", raising=False)
    settings = chat_settings(server, user, tmp_path, password=password)
    with pytest.raises(SendError, match="refused the login"):
        await asyncio.wait_for(send_once(settings, "bob", "let me in"), 20)
    with pytest.raises(RawConnectError) as refused:
        await RawClient(server.port, user, password or None).connect()
    assert refused.value.code is not None and refused.value.code.value == NOT_AUTHORIZED


async def test_mqchat_send_reports_a_refused_publish(
    server: DeployedMosquitto, tmp_path: Path
) -> None:
    # Logged in as mallory (user info in the URL) while posing as alice: the broker
    # drops the publish and says so in the PUBACK.
    settings = Settings(
        broker=parse_broker_url(f"mqtt://mallory:{USERS['mallory']}@127.0.0.1:{server.port}"),
        user="alice",
        data_dir=tmp_path,
        namespace=server.namespace,
    )
    with pytest.raises(SendError, match=r"not authori[sz]ed"):
        await send_once(settings, "bob", "as alice")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def tls_deploy(folder: Path, ns: str, files: TlsFiles, *, client_certs: bool) -> DeployedMosquitto:
    tls = ListenerTls(
        str(files.server_cert),
        str(files.server_key),
        cafile=str(files.ca) if client_certs else None,
        require_certificate=client_certs,
    )
    return deploy(folder, ns, tls)


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
async def test_tls_listeners(
    tmp_path: Path, namespace: str, tls_files: TlsFiles, transport: Transport
) -> None:
    server = tls_deploy(tmp_path / "broker", namespace, tls_files, client_certs=False)
    try:
        port = server.port if transport == "tcp" else server.websockets_port
        assert port is not None
        profile = f"{namespace}/u/alice/profile"
        async with (
            raw(port, "alice", ca=tls_files.ca, transport=transport) as alice,
            raw(port, "mallory", ca=tls_files.ca, transport=transport) as mallory,
        ):
            if transport == "tcp":
                # tls_version tlsv1.2 is a minimum: TLS 1.3 is still negotiated
                assert alice.tls_version == "TLSv1.3"
            await mallory.subscribe(profile)
            assert not (await alice.publish(profile, b'{"name":"Alice"}')).is_failure
            assert (await mallory.next_message()).payload == b'{"name":"Alice"}'
            # the ACL guards the TLS listeners as much as any other
            forged = await mallory.publish(f"{namespace}/u/bob/inbox/alice", b"x")
            assert forged.value == NOT_AUTHORIZED
        with pytest.raises(ssl.SSLCertVerificationError):
            await RawClient(port, "alice", USERS["alice"], ca=tls_files.other_ca).connect()
    finally:
        server.stop()


@pytest.mark.parametrize("transport", ["tcp", "websockets"])
async def test_required_client_certificates(
    tmp_path: Path, namespace: str, tls_files: TlsFiles, transport: Transport
) -> None:
    server = tls_deploy(tmp_path / "broker", namespace, tls_files, client_certs=True)
    try:
        port = server.port if transport == "tcp" else server.websockets_port
        assert port is not None
        # Refused in the TLS handshake, which paho sees either while connecting or
        # as the connection lost before CONNACK.
        with pytest.raises((RawConnectError, ssl.SSLError, OSError)):
            await RawClient(
                port, "alice", USERS["alice"], ca=tls_files.ca, transport=transport
            ).connect()
        certificate = (tls_files.client_cert, tls_files.client_key)
        async with raw(
            port, "alice", ca=tls_files.ca, transport=transport, client_cert=certificate
        ) as alice:
            assert not (await alice.publish(f"{namespace}/u/alice/profile", b"{}")).is_failure
    finally:
        server.stop()


async def test_websockets_listener(server: DeployedMosquitto) -> None:
    ns = server.namespace
    assert server.websockets_port is not None
    async with (
        raw(server.port, "bob") as bob,
        raw(server.websockets_port, "alice", transport="websockets") as alice,
        raw(server.websockets_port, "mallory", transport="websockets") as mallory,
    ):
        await bob.subscribe(f"{ns}/u/bob/inbox/+")
        note = Text.new("alice", "bob", "over websockets")
        assert (await mallory.publish(f"{ns}/u/bob/inbox/alice", b"x")).value == NOT_AUTHORIZED
        assert not (
            await alice.publish(f"{ns}/u/bob/inbox/alice", encode_envelope(note))
        ).is_failure
        first = await bob.next_message()  # mallory's came first, had it passed
        assert first.topic == f"{ns}/u/bob/inbox/alice"
        assert parse_envelope(bytes(first.payload)).id == note.id
    with pytest.raises(RawConnectError):
        await RawClient(server.websockets_port, "alice", "wrong", transport="websockets").connect()


async def test_a_chat_message_the_broker_refuses_is_failed_not_sent(
    server: DeployedMosquitto, tmp_path: Path
) -> None:
    # mallory's login, posing as alice: the ACL drops the publish, and says so (MQTT 5).
    posing = f"mqtt://mallory:{USERS['mallory']}@127.0.0.1:{server.port}"
    mallory = USERS["mallory"]
    async with chatting(server, "alice", tmp_path, url=posing, password=mallory) as (
        fake,
        events,
    ):
        msg = await fake.send_text("bob", "as alice")
        failed = await events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == msg.id and e.state is not DeliveryState.PENDING,
        )
        assert failed.state is DeliveryState.FAILED
        assert "the broker refused it: not authorized" in failed.reason
        later = await fake.send_text("bob", "and again")  # the chat goes on
        again = await events.wait_for(MessageStateChanged, lambda e: e.message_id == later.id)
        assert again.state is DeliveryState.FAILED


async def test_alice_and_bob_chat_over_mqtts_on_the_generated_tls_config(
    tmp_path: Path, namespace: str, tls_files: TlsFiles
) -> None:
    server = tls_deploy(tmp_path / "broker", namespace, tls_files, client_certs=False)
    try:
        url = f"mqtts://127.0.0.1:{server.port}"
        tls = TlsOptions(cafile=tls_files.ca)
        async with (
            chatting(server, "alice", tmp_path, url=url, tls=tls) as (alice, a_events),
            chatting(server, "bob", tmp_path, url=url, tls=tls) as (bob, b_events),
        ):
            await alice.add_contact("bob")
            sent = await alice.send_text("bob", "over TLS")
            got = await b_events.wait_for(ChatReceived)
            assert (got.message.id, got.message.body) == (sent.id, "over TLS")
            reply = await bob.send_text("alice", "back over TLS")
            back = await a_events.wait_for(ChatReceived)
            assert back.message.id == reply.id
        # mallory, over the same TLS listener, posing as alice: dropped
        async with chatting(
            server, "alice", tmp_path / "m", url=f"mqtts://mallory@127.0.0.1:{server.port}",
            tls=tls, password=USERS["mallory"],
        ) as (fake, events):  # fmt: skip
            forged = await fake.send_text("bob", "forged")
            failed = await events.wait_for(MessageStateChanged, lambda e: e.message_id == forged.id)
            assert failed.state is DeliveryState.FAILED
    finally:
        server.stop()
