"""Issue 3's hostile-input list against a real mosquitto. An outsider publishes with
``mosquitto_pub`` onto bob's inbox; bob's ChatService rejects and counts, ignores, or
stores each payload exactly as docs/protocol.md says, and keeps working.

"Nothing happened" is proven by order: after each hostile payload a valid sentinel
from alice follows on the same subscription, and once the sentinel is stored the
hostile payload has been handled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from mqchat.chat.service import ChatService
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.envelope import (
    FriendAccept,
    Receipt,
    ReceiptStatus,
    Text,
    encode_envelope,
    parse_envelope,
)
from mqchat.core.events import (
    ChatReceived,
    ConnectionChanged,
    MessageStateChanged,
    PresenceChanged,
    Rejected,
)
from mqchat.core.ids import new_message_id
from mqchat.core.model import ChatMessage, ConnectionState, DeliveryState
from mqchat.core.text import display_safe
from mqchat.core.wire import MAX_NAME_LENGTH
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.broker

TS = "2026-11-22T04:00:00.123Z"


# -- the outsider and bob -------------------------------------------------------------


async def mosquitto_pub(broker: Mosquitto, topic: str, payload: bytes) -> None:
    """Publish ``payload`` byte for byte, QoS 1, as any MQTT client on the network
    could. Returns once the broker has acknowledged (and so routed) it."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", topic]
    args += ["-n"] if payload == b"" else ["-s"]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(payload), 10)
    assert proc.returncode == 0, f"mosquitto_pub failed: {err.decode(errors='replace')}"


@dataclass
class Bob:
    service: ChatService
    events: Recorder
    broker: Mosquitto
    ns: str

    def inbox(self, sender: str) -> str:
        return f"{self.ns}/u/bob/inbox/{sender}"

    async def conversation(self, peer: str) -> list[ChatMessage]:
        return await (await self.service.store()).conversation(peer)

    async def send_sentinel(self) -> Text:
        """A normal message from alice; returns once bob has stored it, so everything
        published before it has been handled."""
        env = Text.new("alice", "bob", "sentinel: all is well")
        mark = len(self.events.events)
        await mosquitto_pub(self.broker, self.inbox("alice"), encode_envelope(env))
        await self.events.wait_for(ChatReceived, lambda e: e.message.id == env.id, since=mark)
        return env

    def since(self, mark: int) -> list[object]:
        return list(self.events.events[mark:])


@pytest.fixture
async def bob(broker: Mosquitto, namespace: str, tmp_path: Path) -> AsyncIterator[Bob]:
    settings = Settings(
        broker=parse_broker_url(broker.url),
        user="bob",
        display_name="Bob",
        data_dir=tmp_path,
        namespace=namespace,
        keepalive=5,
    )
    service = ChatService(settings)
    events = Recorder()
    service.set_listener(events)
    task = asyncio.create_task(service.run())
    try:
        await events.wait_for(ConnectionChanged, lambda e: e.state is ConnectionState.CONNECTED)
        bob = Bob(service, events, broker, namespace)
        # alice is bob's friend: he asked, she accepted (the next sentinel orders it)
        await service.add_contact("alice")
        accept = FriendAccept.new("alice", "bob", name="Alice")
        await mosquitto_pub(broker, bob.inbox("alice"), encode_envelope(accept))
        yield bob
    finally:
        await service.stop()
        await asyncio.wait_for(task, 10)


# -- payloads -------------------------------------------------------------------------


def envelope(**changes: Any) -> dict[str, Any]:
    """A valid text envelope from mallory to bob, with ``changes`` (``...`` deletes)."""
    obj: dict[str, Any] = {
        "v": 1,
        "id": new_message_id(),
        "type": "text",
        "from": "mallory",
        "to": "bob",
        "ts": TS,
        "body": "hi bob",
    }
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not ...}


def encoded(**changes: Any) -> bytes:
    return json.dumps(envelope(**changes)).encode()


def with_literal(key: str, literal: str) -> bytes:
    """An envelope whose ``key`` holds a bare JSON literal such as NaN."""
    return json.dumps(envelope(**{key: "@@"})).replace('"@@"', literal).encode()


def with_raw_body(raw: bytes) -> bytes:
    """An envelope whose body is ``raw``, bytes that need not be UTF-8 or JSON."""
    return json.dumps(envelope(body="@@")).encode().replace(b'"@@"', b'"' + raw + b'"')


def readable(reason: str) -> bool:
    """Fit for a log line and the status bar: short, no control characters."""
    return reason.strip() != "" and display_safe(reason) == reason and len(reason) <= 200


# (id, payload on mallory's topic, a word the Rejected reason must contain)
REJECTED: list[tuple[str, bytes, str]] = [
    ("not-json", b"hello bob, it's mallory", "JSON"),
    ("truncated-json", encoded()[:40], "JSON"),
    ("empty-payload", b"", "JSON"),
    ("json-array", b'[{"v":1}]', "object"),
    ("json-number", b"42", "object"),
    ("json-null", b"null", "object"),
    ("json-string", b'"hi bob"', "object"),
    ("invalid-utf8", with_raw_body(b"caf\xe9 \xff\xfe"), "UTF-8"),
    ("overlong-utf8", with_raw_body(b"\xc0\xaf"), "UTF-8"),
    ("lone-surrogate-escape", encoded(body="\ud800 broken"), "surrogate"),
    ("oversize-body", encoded(body="x" * 70_000), "exceeds"),
    ("oversize-garbage", b"\x00" * 65_537, "exceeds"),
    (
        "deep-nesting",
        with_raw_body(b'", "n": ' + b"[" * 30_000 + b"]" * 30_000 + b', "x":"'),
        "JSON",
    ),
    ("v-missing", encoded(v=...), "'v'"),
    ("v-string", encoded(v="1"), "'v'"),
    ("v-bool", encoded(v=True), "'v'"),
    ("v-zero", encoded(v=0), "'v'"),
    ("v-nan", with_literal("v", "NaN"), "'v'"),
    ("id-missing", encoded(id=...), "'id'"),
    ("id-number", encoded(id=5), "'id'"),
    ("id-empty", encoded(id=""), "'id'"),
    ("id-65-chars", encoded(id="x" * 65), "'id'"),
    ("id-60k-chars", encoded(id="x" * 60_000), "'id'"),
    ("type-null", encoded(type=None), "'type'"),
    ("type-object", encoded(type={"text": True}), "'type'"),
    ("from-number", encoded(**{"from": 7}), "'from'"),
    ("from-not-a-user-name", encoded(**{"from": "mall/ory"}), "'from'"),
    ("from-huge", encoded(**{"from": "m" * 50_000}), "'from'"),
    ("to-list", encoded(to=["bob"]), "'to'"),
    ("ts-number", encoded(ts=1_700_000_000), "'ts'"),
    ("ts-garbage", encoded(ts="yesterday\x1b[2J"), "'ts'"),
    ("ts-infinity", with_literal("ts", "Infinity"), "'ts'"),
    ("ts-before-year-1", encoded(ts="0001-01-01T00:00:00+01:00"), "'ts'"),
    ("body-missing", encoded(body=...), "'body'"),
    ("body-list", encoded(body=["hi"]), "'body'"),
    ("body-nan", with_literal("body", "NaN"), "'body'"),
    ("receipt-ids-string", encoded(type="receipt", ids="abc", status="read"), "'ids'"),
    ("receipt-ids-too-long", encoded(type="receipt", ids=["x" * 65], status="read"), "'ids'"),
    ("receipt-bad-status", encoded(type="receipt", ids=["abc"], status="pwned"), "'status'"),
    ("spoofed-from", encoded(**{"from": "alice"}), "alice"),
    (
        "duplicate-from-key-spoof",  # the last "from" wins, and that one is a spoof
        b'{"from":"mallory",' + encoded(**{"from": "alice"})[1:],
        "alice",
    ),
    ("to-not-us", encoded(to="carol"), "carol"),
]

# Dropped without being counted: unknown types (forward compatible) and typing,
# which is never stored.
IGNORED: list[tuple[str, bytes]] = [
    ("unknown-type", encoded(type="reaction", body="👍", target=new_message_id())),
    (
        "unknown-type-odd-fields",
        encoded(type="x-future", v=7, body=..., extra={"deep": [[[{}]]]}, n=1e308),
    ),
    ("typing", encoded(type="typing", body=...)),
]


# -- rejected, counted, never stored --------------------------------------------------


async def assert_only_sentinel_stored(bob: Bob, sentinel: Text, mark: int) -> None:
    """Nothing but the sentinel reached the store or was shown as chat."""
    shown = [e.message.id for e in bob.since(mark) if isinstance(e, ChatReceived)]
    assert shown == [sentinel.id]
    assert await bob.conversation("mallory") == []
    assert [m.id for m in await bob.conversation("alice")] == [sentinel.id]


@pytest.mark.parametrize(
    ("payload", "word"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
async def test_hostile_payload_is_rejected_counted_and_not_stored(
    bob: Bob, payload: bytes, word: str
) -> None:
    mark, before = len(bob.events.events), bob.service.rejected_count
    await mosquitto_pub(bob.broker, bob.inbox("mallory"), payload)
    sentinel = await bob.send_sentinel()

    rejected = [e for e in bob.since(mark) if isinstance(e, Rejected)]
    assert len(rejected) == 1, rejected
    (event,) = rejected
    assert event.topic == bob.inbox("mallory")
    assert word in event.reason and readable(event.reason), event.reason
    assert event.total == bob.service.rejected_count == before + 1
    await assert_only_sentinel_stored(bob, sentinel, mark)


@pytest.mark.parametrize("payload", [c[1] for c in IGNORED], ids=[c[0] for c in IGNORED])
async def test_unknown_or_unstored_types_are_ignored_without_counting(
    bob: Bob, payload: bytes
) -> None:
    mark = len(bob.events.events)
    await mosquitto_pub(bob.broker, bob.inbox("mallory"), payload)
    sentinel = await bob.send_sentinel()

    assert [e for e in bob.since(mark) if isinstance(e, Rejected)] == []
    assert bob.service.rejected_count == 0
    await assert_only_sentinel_stored(bob, sentinel, mark)


@pytest.mark.parametrize("sender_level", ["mal ory", "m" * 33, "m@llory"])
async def test_inbox_topic_with_an_invalid_sender_level_is_not_stored(
    bob: Bob, sender_level: str
) -> None:
    mark = len(bob.events.events)
    payload = encoded(**{"from": sender_level})
    await mosquitto_pub(bob.broker, bob.inbox(sender_level), payload)
    sentinel = await bob.send_sentinel()
    await assert_only_sentinel_stored(bob, sentinel, mark)


async def test_the_service_survives_every_hostile_payload_in_a_row(bob: Bob) -> None:
    for _, payload, _ in REJECTED:
        await mosquitto_pub(bob.broker, bob.inbox("mallory"), payload)
    for _, payload in IGNORED:
        await mosquitto_pub(bob.broker, bob.inbox("mallory"), payload)
    sentinel = await bob.send_sentinel()

    assert bob.service.rejected_count == len(REJECTED)
    totals = [e.total for e in bob.events.of(Rejected)]
    assert totals == list(range(1, len(REJECTED) + 1))
    await assert_only_sentinel_stored(bob, sentinel, 0)
    # and it still talks: bob's answer goes out
    sent = await bob.service.send_text("alice", "still here")
    assert sent.state in (DeliveryState.PENDING, DeliveryState.SENT)


# -- stored literally -----------------------------------------------------------------

LITERAL_BODIES = {
    "rich-markup": "[bold red]ALERT[/] [link=https://evil.example]click[/link]"
    " \\[x] [/] [@click=app.quit]",
    "csi-and-osc": "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "c1-bidi-and-friends": "\x9b31m red \u202eevil\u202c \u2066iso\u2069 \r\x08\x07 tab\there",
    "nul-and-del": "before\x00after\x7f",
    "markup-and-escape-mix": "[red]\x1b[31m[/red]\x1b[0m\n second line",
}


@pytest.mark.parametrize("body", LITERAL_BODIES.values(), ids=LITERAL_BODIES.keys())
async def test_markup_and_escape_sequences_are_stored_byte_for_byte(bob: Bob, body: str) -> None:
    env = Text.new("alice", "bob", body)
    mark = len(bob.events.events)
    await mosquitto_pub(bob.broker, bob.inbox("alice"), encode_envelope(env))
    got = await bob.events.wait_for(ChatReceived, lambda e: e.message.id == env.id, since=mark)

    assert got.message.body == body
    (stored,) = await bob.conversation("alice")
    assert stored.body.encode() == body.encode()
    assert bob.service.rejected_count == 0
    # what the UI will show of it cannot drive the terminal
    assert "\x1b" not in display_safe(stored.body) and "\x9b" not in display_safe(stored.body)


# -- a repeated id --------------------------------------------------------------------


async def test_a_repeated_id_is_stored_and_shown_once(bob: Bob) -> None:
    env = Text.new("alice", "bob", "only once")
    again = Text.new("alice", "bob", "a different body", id=env.id)
    for payload in (encode_envelope(env), encode_envelope(env), encode_envelope(again)):
        await mosquitto_pub(bob.broker, bob.inbox("alice"), payload)
    sentinel = await bob.send_sentinel()

    shown = [e.message for e in bob.events.of(ChatReceived)]
    assert [(m.id, m.body) for m in shown] == [(env.id, "only once"), (sentinel.id, sentinel.body)]
    assert [m.body for m in await bob.conversation("alice")] == ["only once", sentinel.body]
    assert bob.service.rejected_count == 0


async def test_a_stranger_reusing_someone_elses_id_changes_nothing(bob: Bob) -> None:
    original = Text.new("alice", "bob", "the real one")
    await mosquitto_pub(bob.broker, bob.inbox("alice"), encode_envelope(original))
    await bob.events.wait_for(ChatReceived, lambda e: e.message.id == original.id)
    mark = len(bob.events.events)

    forged = encoded(id=original.id, body="overwritten by mallory")
    async with aiomqtt.Client("127.0.0.1", bob.broker.port) as spy:
        # bob's receipts, to mallory and to alice, go out in the order he handled them
        await spy.subscribe(f"{bob.ns}/u/mallory/inbox/bob", qos=1)
        await spy.subscribe(f"{bob.ns}/u/alice/inbox/bob", qos=1)
        await mosquitto_pub(bob.broker, bob.inbox("mallory"), forged)
        sentinel = await bob.send_sentinel()
        to_mallory = []
        async with asyncio.timeout(10):
            async for message in spy.messages:
                assert isinstance(message.payload, bytes)
                if str(message.topic).endswith("/mallory/inbox/bob"):
                    to_mallory.append(message.payload)
                elif sentinel.id in parse_envelope(message.payload).ids:
                    break
    # a receipt would tell mallory that the id she guessed exists
    assert to_mallory == []
    assert await bob.service.contact("mallory") is None

    assert [e.message.id for e in bob.since(mark) if isinstance(e, ChatReceived)] == [sentinel.id]
    assert await bob.conversation("mallory") == []
    stored = await bob.conversation("alice")
    assert [(m.id, m.sender, m.body) for m in stored] == [
        (original.id, "alice", "the real one"),
        (sentinel.id, "alice", sentinel.body),
    ]


# -- receipts -------------------------------------------------------------------------


def receipt(sender: str, ids: list[str], **changes: Any) -> bytes:
    """A "read" receipt from ``sender`` to bob, with ``changes``."""
    read = Receipt.new(sender, "bob", ids, ReceiptStatus.READ)
    obj = json.loads(encode_envelope(read)) | changes
    return json.dumps(obj).encode()


@dataclass(frozen=True)
class BadReceipt:
    topic_sender: str  # whose inbox topic it arrives on
    sender: str  # its "from"
    acks: str  # "ours": bob's message to alice, "theirs": alice's to bob, or "unknown"
    changes: dict[str, Any] = field(default_factory=dict)
    counted: bool = False  # malformed or spoofed, rather than merely not believed


BAD_RECEIPTS = {
    "wrong-peer": BadReceipt("mallory", "mallory", "ours"),
    "unknown-ids": BadReceipt("alice", "alice", "unknown"),
    "an-incoming-id": BadReceipt("alice", "alice", "theirs"),
    "bad-status": BadReceipt("alice", "alice", "ours", {"status": "seen"}, counted=True),
    "spoofed-from": BadReceipt("mallory", "alice", "ours", counted=True),
    "to-not-us": BadReceipt("alice", "alice", "ours", {"to": "carol"}, counted=True),
}


@pytest.mark.parametrize("case", BAD_RECEIPTS.values(), ids=BAD_RECEIPTS.keys())
async def test_a_receipt_bob_must_not_believe_changes_no_state(bob: Bob, case: BadReceipt) -> None:
    theirs = Text.new("alice", "bob", "hello bob")
    await mosquitto_pub(bob.broker, bob.inbox("alice"), encode_envelope(theirs))
    await bob.events.wait_for(ChatReceived, lambda e: e.message.id == theirs.id)
    ours = await bob.service.send_text("alice", "hello alice")
    await bob.events.wait_for(
        MessageStateChanged, lambda e: e.message_id == ours.id and e.state is DeliveryState.SENT
    )
    mark = len(bob.events.events)

    ids = {"ours": [ours.id], "theirs": [theirs.id], "unknown": ["nope", new_message_id()]}
    bad = receipt(case.sender, ids[case.acks], **case.changes)
    await mosquitto_pub(bob.broker, bob.inbox(case.topic_sender), bad)
    await bob.send_sentinel()

    assert [e for e in bob.since(mark) if isinstance(e, MessageStateChanged)] == []
    states = {m.id: m.state for m in await bob.conversation("alice")}
    assert states[ours.id] is DeliveryState.SENT
    assert states[theirs.id] is DeliveryState.RECEIVED
    assert bob.service.rejected_count == (1 if case.counted else 0)
    # and alice's own receipt is believed: the ones above could have had an effect
    await mosquitto_pub(bob.broker, bob.inbox("alice"), receipt("alice", [ours.id]))
    await bob.events.wait_for(
        MessageStateChanged, lambda e: e.message_id == ours.id and e.state is DeliveryState.READ
    )


# -- presence -------------------------------------------------------------------------


def presence(**fields: Any) -> bytes:
    return json.dumps({"v": 1, "state": "online", "ts": TS} | fields).encode()


BAD_PRESENCE = {
    "garbage": b"mallory is online, trust me",
    "invalid-utf8": b'{"v":1,"state":"online","name":"\xff"}',
    "json-array": b'["online"]',
    "unknown-state": presence(state="hacked"),
    "state-number": presence(state=1),
    "ts-garbage": presence(ts="soon"),
    "ts-out-of-range": presence(ts="9999-12-31T23:59:59-01:00"),
    "lone-surrogate-name": presence(name="\udc00"),
    "oversize": presence(name="x" * 5000),
    "deep-nesting": b"[" * 3000 + b"]" * 3000,
}


async def publish_carol_presence(bob: Bob) -> None:
    """The presence sentinel: once carol's is seen, what came before was handled."""
    mark = len(bob.events.events)
    await mosquitto_pub(bob.broker, f"{bob.ns}/u/carol/presence", presence(name="Carol"))
    await bob.events.wait_for(
        PresenceChanged, lambda e: e.presence.user == "carol" and e.presence.online, since=mark
    )


@pytest.mark.parametrize("payload", BAD_PRESENCE.values(), ids=BAD_PRESENCE.keys())
async def test_garbage_presence_is_rejected_and_counted(bob: Bob, payload: bytes) -> None:
    await bob.service.watch_roster(True)
    await publish_carol_presence(bob)  # the subscription is in place
    mark = len(bob.events.events)

    await mosquitto_pub(bob.broker, f"{bob.ns}/u/mallory/presence", payload)
    await publish_carol_presence(bob)

    rejected = [e for e in bob.since(mark) if isinstance(e, Rejected)]
    assert len(rejected) == 1 and readable(rejected[0].reason), rejected
    assert bob.service.rejected_count == 1
    seen = [e for e in bob.since(mark) if isinstance(e, PresenceChanged)]
    assert all(e.presence.user != "mallory" for e in seen)
    assert bob.service.presence("mallory") is None


async def test_hostile_display_name_in_presence_is_kept_as_text_and_made_safe(bob: Bob) -> None:
    name = "\x1b]0;pwned\x07\x1b[2J[bold]Mallory[/]\u202e\x9b1m " + "y" * 200
    await bob.service.watch_roster(True)
    mark = len(bob.events.events)
    await mosquitto_pub(bob.broker, f"{bob.ns}/u/mallory/presence", presence(name=name))
    got = await bob.events.wait_for(
        PresenceChanged, lambda e: e.presence.user == "mallory", since=mark
    )

    assert got.presence.name == name[:MAX_NAME_LENGTH]  # kept as sent, only cut
    shown = display_safe(got.presence.name)
    assert not any(ch in shown for ch in "\x1b\x07\x9b\u202e")
    assert "[bold]Mallory[/]" in shown  # markup is the renderer's to escape
    assert bob.service.rejected_count == 0
