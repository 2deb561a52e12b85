"""TLS against a real mosquitto: alice and bob chat over mqtts://, the headless
commands and the inspector connect with a CA file or a client certificate, and every
way a connection can fail ends ``mqchat send`` within 20 s with exit 1 and one line
naming the cause. Credentials given in a URL never appear in any output."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions
from mqchat.core.events import ChatReceived, ConnectionChanged, MessageStateChanged
from mqchat.core.model import ConnectionState, DeliveryState
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.feed import InspectorFeed
from tests.support.chat_session import connected_service
from tests.support.mosquitto import free_port, require_mosquitto
from tests.support.recorder import Recorder
from tests.support.tls_broker import OTHER_LOOPBACK, TlsBroker, start_tls_broker

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"alice": "alice-s3cret-pw", "bob": "bob-s3cret-pw"}
WRONG = "wrong-s3cret-pw"
SECRETS = (*PASSWORDS.values(), WRONG)


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    require_mosquitto()
    server = start_tls_broker(tmp_path_factory.mktemp("tls"), users=PASSWORDS)
    yield server
    server.stop()


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def mqchat(*args: str, env: dict[str, str] | None = None, data: Path | None = None) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    argv = list(args)
    if "--broker" in argv and "@" in argv[argv.index("--broker") + 1]:
        # A password may not be on the command line (every local user sees it in
        # `ps`): a URL with one travels in MQCHAT_BROKER, as a script would pass it.
        at = argv.index("--broker")
        clean["MQCHAT_BROKER"] = argv[at + 1]
        del argv[at : at + 2]
        args = tuple(argv)
    if data is not None:
        clean["MQCHAT_DATA_DIR"] = str(data)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mqchat", *args],
        capture_output=True,
        timeout=60,
        env=clean | (env or {}),
        cwd=ROOT,
        text=True,
    )
    run = Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr, "a password was echoed"
    return run


def url(scheme: str, port: int, *, host: str = "127.0.0.1", password: str | None = None) -> str:
    login = f"alice:{password}@" if password else ""
    return f"{scheme}://{login}{host}:{port}"


# --- mqchat send: every failure is one clear line, exit 1, within 20 s -------------------


def failures(b: TlsBroker) -> dict[str, tuple[list[str], str]]:
    """case -> (send arguments, the one line it must print)."""
    ok = PASSWORDS["alice"]
    tls, ca = b.tls, str(b.files.ca)
    where = f"127.0.0.1:{tls}"
    untrusted = (
        f"TLS with {where} failed: the broker's certificate is not trusted "
        "(self-signed or unknown CA); pass --cafile"
    )
    cases = {
        "untrusted CA": (
            ["--broker", url("mqtts", tls, password=ok), "--cafile", str(b.files.other_ca)],
            untrusted,
        ),
        "system trust store": (["--broker", url("mqtts", tls, password=ok)], untrusted),
        "expired certificate": (
            ["--broker", url("mqtts", b.expired, password=ok), "--cafile", ca],
            f"TLS with 127.0.0.1:{b.expired} failed: the broker's certificate has expired",
        ),
        "wrong password": (
            ["--broker", url("mqtts", tls, password=WRONG), "--cafile", ca],
            f"{where} refused the login: not authorized (wrong user name or password?)",
        ),
        "port refused": (
            ["--broker", url("mqtt", (port := free_port()), password=ok)],
            f"connection refused by 127.0.0.1:{port} (is the broker running?)",
        ),
        "client certificate missing": (
            ["--broker", url("mqtts", b.client_cert, password=ok), "--cafile", ca],
            f"TLS with 127.0.0.1:{b.client_cert} failed: the broker wants a client "
            "certificate; pass --certfile and --keyfile",
        ),
        "TLS to a plain port": (
            ["--broker", url("mqtts", b.plain, password=ok), "--cafile", ca],
            f"TLS with 127.0.0.1:{b.plain} failed: the broker closed the connection during "
            "the TLS handshake: is this a plain port? (plain MQTT is mqtt://, plain "
            "WebSocket ws://)",
        ),
        "plain MQTT to a TLS port": (
            ["--broker", url("mqtt", tls, password=ok)],
            f"{where} closed the connection before answering: is it a TLS port (mqtts://) "
            "or a WebSocket port (ws://)?",
        ),
    }
    if b.other_host is not None:
        cases["hostname mismatch"] = (
            [
                "--broker",
                url("mqtts", b.other_host, host=OTHER_LOOPBACK, password=ok),
                "--cafile",
                ca,
            ],
            f"TLS with {OTHER_LOOPBACK}:{b.other_host} failed: the broker's certificate is "
            f"not for '{OTHER_LOOPBACK}' (hostname mismatch); connect with a name the "
            "certificate lists",
        )
    return cases


CASES = [
    "untrusted CA",
    "system trust store",
    "hostname mismatch",
    "expired certificate",
    "wrong password",
    "port refused",
    "client certificate missing",
    "TLS to a plain port",
    "plain MQTT to a TLS port",
]


@pytest.mark.parametrize("case", CASES)
def test_send_fails_fast_with_one_clear_line(
    tls_broker: TlsBroker, tmp_path: Path, case: str
) -> None:
    known = failures(tls_broker)
    if case not in known:
        pytest.skip(f"{OTHER_LOOPBACK} cannot be bound on this machine")
    args, reason = known[case]
    run = mqchat("send", "bob", "hello", "--user", "alice", *args, data=tmp_path)
    assert run.returncode == 1
    assert run.lines == [f"mqchat: not sent: {reason}"]
    assert run.seconds < 20
    assert run.stdout == ""


# --- what works --------------------------------------------------------------------------


def test_send_with_a_ca_file_and_with_a_client_certificate(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    b, secret = tls_broker, PASSWORDS["alice"]
    with_ca = mqchat(
        "send", "bob", "over TLS", "--user", "alice", "--cafile", str(b.files.ca),
        "--broker", url("mqtts", b.tls, password=secret), data=tmp_path,
    )  # fmt: skip
    assert with_ca.returncode == 0, with_ca.stderr
    assert with_ca.lines[-1].startswith("sent ") and with_ca.lines[-1].endswith(" to bob")
    client_cert = mqchat(
        "send", "bob", "with a certificate", "--user", "alice",
        "--broker", url("mqtts", b.client_cert),
        "--cafile", str(b.files.ca),
        "--certfile", str(b.files.client_cert), "--keyfile", str(b.files.client_key),
        env={"MQCHAT_PASSWORD": secret}, data=tmp_path,
    )  # fmt: skip
    assert client_cert.returncode == 0, client_cert.stderr


def test_the_environment_gives_tls_files_and_the_version(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    b = tls_broker
    run = mqchat(
        "send", "bob", "from the environment", "--user", "alice",
        "--broker", url("mqtts", b.client_cert),
        env={
            "MQCHAT_PASSWORD": PASSWORDS["alice"],
            "MQCHAT_CAFILE": str(b.files.ca),
            "MQCHAT_CERTFILE": str(b.files.client_cert),
            "MQCHAT_KEYFILE": str(b.files.client_key),
            "MQCHAT_MQTT_VERSION": "3.1.1",
        },
        data=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "(p2, c1, k15, u'alice')" in b.server.log()  # p2: MQTT 3.1.1


def test_insecure_connects_to_an_untrusted_broker_and_says_so(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    b, secret = tls_broker, PASSWORDS["alice"]
    warning = (
        f"mqchat: warning: --insecure: the certificate of 127.0.0.1:{b.tls} is not checked; "
        "anyone on the network path can pose as the broker and read everything"
    )
    for how, env in ((["--insecure"], None), ([], {"MQCHAT_INSECURE": "yes"})):
        run = mqchat(
            "send", "bob", "unchecked", "--user", "alice", *how,
            "--broker", url("mqtts", b.tls, password=secret), env=env, data=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert run.lines[0] == warning
        assert run.lines[1].startswith("sent ")


def test_tls_flags_with_a_plain_url_or_bad_files_are_usage_errors(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    b = tls_broker
    plain = mqchat(
        "send", "bob", "x", "--user", "alice", "--cafile", str(b.files.ca), "--insecure",
        "--broker", url("mqtt", b.plain), data=tmp_path,
    )  # fmt: skip
    assert plain.returncode == 2
    assert plain.lines == [
        "mqchat: --cafile, --insecure need a TLS broker URL (mqtts:// or wss://), not mqtt://"
    ]
    missing = mqchat(
        "pub", "t", "x", "--cafile", str(tmp_path / "nope.pem"), "--broker", url("mqtts", b.tls)
    )
    assert missing.returncode == 2
    assert missing.lines == [f"mqchat: cannot read the CA file '{tmp_path / 'nope.pem'}': "
                             "No such file or directory"]  # fmt: skip


def test_headless_pub_and_sub_over_tls(tls_broker: TlsBroker, namespace: str) -> None:
    b = tls_broker
    topic = f"{namespace}/tls"
    ca = ["--cafile", str(b.files.ca)]
    login = {"MQCHAT_USER": "alice", "MQCHAT_PASSWORD": PASSWORDS["alice"]}
    pub = mqchat("pub", topic, "secret-free", "-r", "-q", "1", *ca,
                 "--broker", url("mqtts", b.tls), env=login)  # fmt: skip
    assert pub.returncode == 0, pub.stderr
    sub = mqchat("sub", topic, "-C", "1", "-V", "3.1.1", *ca,
                 "--certfile", str(b.files.client_cert), "--keyfile", str(b.files.client_key),
                 "--broker", url("mqtts", b.client_cert), env=login)  # fmt: skip
    assert (sub.returncode, sub.stdout) == (0, "secret-free\n"), sub.stderr
    wrong = mqchat("sub", topic, "-C", "1", "--cafile", str(b.files.other_ca),
                   "--broker", url("mqtts", b.tls), env=login)  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.lines == [
        f"mqchat: TLS with 127.0.0.1:{b.tls} failed: the broker's certificate is not trusted "
        "(self-signed or unknown CA); pass --cafile"
    ]
    cleared = mqchat("clear-retained", topic, *ca, "--broker", url("mqtts", b.tls), env=login)
    assert (cleared.returncode, cleared.stdout) == (0, f"{topic}\n"), cleared.stderr


# --- the chat service and the inspector, in process -------------------------------------


def settings_for(b: TlsBroker, user: str, ns: str, data: Path, **tls: object) -> Settings:
    return Settings(
        broker=parse_broker_url(url("mqtts", b.tls)),
        user=user,
        password=PASSWORDS[user],
        data_dir=data,
        namespace=ns,
        keepalive=5,
        tls=TlsOptions(cafile=b.files.ca, **tls),  # type: ignore[arg-type]
    )


@asynccontextmanager
async def chatting(settings: Settings) -> AsyncIterator[tuple[ChatService, Recorder]]:
    async with connected_service(settings) as (service, events, _):
        yield service, events


async def test_alice_and_bob_chat_over_mqtts(
    tls_broker: TlsBroker, namespace: str, tmp_path: Path
) -> None:
    alice_settings = settings_for(tls_broker, "alice", namespace, tmp_path)
    bob_settings = settings_for(tls_broker, "bob", namespace, tmp_path)
    async with (
        chatting(alice_settings) as (alice, a_events),
        chatting(bob_settings) as (
            bob,
            b_events,
        ),
    ):
        assert alice.broker_label == f"127.0.0.1:{tls_broker.tls} (TLS)"
        await alice.add_contact("bob")
        sent = await alice.send_text("bob", "hi bob, encrypted")
        got = await b_events.wait_for(ChatReceived)
        assert (got.message.body, got.message.sender) == ("hi bob, encrypted", "alice")
        await a_events.wait_for(
            MessageStateChanged,
            lambda e: e.message_id == sent.id and e.state is DeliveryState.DELIVERED,
        )
        await bob.send_text("alice", "hi alice")
        back = await a_events.wait_for(ChatReceived)
        assert back.message.body == "hi alice"


async def test_the_chat_stops_for_good_on_a_certificate_problem(
    tls_broker: TlsBroker, namespace: str, tmp_path: Path
) -> None:
    settings = settings_for(tls_broker, "alice", namespace, tmp_path)
    service = ChatService(replace(settings, tls=TlsOptions(cafile=tls_broker.files.other_ca)))
    events = Recorder()
    service.set_listener(events)
    await asyncio.wait_for(service.run(), 20)
    failed = await events.wait_for(ConnectionChanged, lambda e: e.state is ConnectionState.FAILED)
    assert "the broker's certificate is not trusted" in failed.detail
    await service.stop()


async def test_insecure_is_marked_where_the_connection_is_shown(
    tls_broker: TlsBroker, namespace: str, tmp_path: Path
) -> None:
    settings = settings_for(tls_broker, "alice", namespace, tmp_path, insecure=True)
    async with chatting(settings) as (alice, events):
        label = f"127.0.0.1:{tls_broker.tls} (TLS, NOT VERIFIED)"
        assert alice.broker_label == label
        connected = events.of(ConnectionChanged)[-1]
        assert connected.detail.startswith(f"connected to {label}")


async def test_the_inspector_connects_with_a_client_certificate(
    tls_broker: TlsBroker, namespace: str
) -> None:
    b = tls_broker
    settings = Settings(
        broker=parse_broker_url(url("mqtts", b.client_cert)),
        user="bob",
        password=PASSWORDS["bob"],
        keepalive=5,
        tls=TlsOptions(cafile=b.files.ca, certfile=b.files.client_cert, keyfile=b.files.client_key),
    )
    feed = InspectorFeed(settings)
    feed.subscribe(f"{namespace}/#")
    feed.start()
    try:
        async with asyncio.timeout(10):
            while feed.connection.state is not ConnectionState.CONNECTED:
                await asyncio.sleep(0.01)  # the feed runs on its own thread: poll
            outcome = await feed.publish(PublishRequest(f"{namespace}/i", b"seen", qos=1))
            assert outcome.acknowledged
            while not (taken := feed.take(10)):
                await asyncio.sleep(0.01)
        assert taken[0].payload == b"seen"
    finally:
        await feed.stop()
