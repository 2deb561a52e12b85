"""The inspector's paho feed against a real mosquitto: subscribe, receive (retain
flag, QoS, MQTT 5 properties), unsubscribe, publish, the retained dry run and clear,
a full buffer, MQTT 3.1.1 fallback, failures in words, reconnecting, a clean stop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.core.backoff import Backoff
from mqchat.core.model import ConnectionState
from mqchat.core.topic_filter import InvalidFilter
from mqchat.inspector.backend import FeedError, PublishRequest, Received
from mqchat.inspector.feed import InspectorFeed
from tests.support.mosquitto import Mosquitto
from tests.support.v311_proxy import V311OnlyProxy

pytestmark = pytest.mark.broker


async def wait_until(done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``done``: the feed works on threads of its own, nothing to await."""
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.01)


def settings_for(url: str, user: str = "", password: str | None = None) -> Settings:
    return Settings(
        broker=parse_broker_url(url),
        user=user,
        password=password,
        keepalive=5,
        connect_timeout=3.0,
    )


def connected(feed: InspectorFeed) -> bool:
    return feed.connection.state is ConnectionState.CONNECTED


@asynccontextmanager
async def running(url: str, *filters: str, **kwargs: object) -> AsyncIterator[InspectorFeed]:
    feed = InspectorFeed(settings_for(url), **kwargs)  # type: ignore[arg-type]
    for topic_filter in filters:
        feed.subscribe(topic_filter)
    feed.start()
    try:
        await wait_until(lambda: connected(feed))
        yield feed
    finally:
        await feed.stop()


async def answered(feed: InspectorFeed, namespace: str) -> None:
    """Until the broker has answered everything asked of ``feed`` so far (SUBACKs,
    UNSUBACKs): the feed carries out requests in order, so the PUBACK of a publish
    asked now comes after theirs. Its topic is outside the namespace's filters."""
    await feed.publish(PublishRequest(f"{namespace}-answered", b"", qos=1))


class Collected:
    """Everything taken from a feed so far."""

    def __init__(self, feed: InspectorFeed) -> None:
        self.feed = feed
        self.messages: list[Received] = []

    def pull(self) -> list[Received]:
        self.messages += self.feed.take(100_000)
        return self.messages

    async def until(self, count: int, timeout: float = 5.0) -> list[Received]:
        await wait_until(lambda: len(self.pull()) >= count, timeout)
        return self.messages


async def test_receives_with_retain_flag_qos_and_properties(broker: Mosquitto, namespace: str):
    async with running(broker.url) as publisher:
        await publisher.publish(PublishRequest(f"{namespace}/kept", b"old", qos=1, retain=True))
        async with running(broker.url) as feed:
            feed.subscribe(f"{namespace}/#", 1)
            got = Collected(feed)
            [kept] = await got.until(1)
            assert (kept.topic, kept.payload, kept.retain) == (f"{namespace}/kept", b"old", True)
            outcome = await publisher.publish(
                PublishRequest(
                    f"{namespace}/live",
                    b'{"a": 1}',
                    qos=1,
                    content_type="application/json",
                    user_properties=(("k", "v"), ("k", "w")),
                    message_expiry=60,
                )
            )
            assert outcome.acknowledged and not outcome.dropped_properties
            [_, live] = await got.until(2)
            assert live.retain is False
            assert live.qos == 1
            assert live.properties is not None
            assert live.properties["ContentType"] == "application/json"
            assert live.properties["UserProperty"] == [("k", "v"), ("k", "w")]
            assert 0 < int(live.properties["MessageExpiryInterval"]) <= 60  # type: ignore[arg-type]
            assert feed.received == 2
            assert feed.connection.protocol == "5"


async def test_subscribe_and_unsubscribe_at_run_time(broker: Mosquitto, namespace: str):
    async with running(broker.url) as publisher, running(broker.url) as feed:
        got = Collected(feed)
        feed.subscribe(f"{namespace}/a/#")
        feed.subscribe(f"{namespace}/b/+", 1)
        assert feed.subscriptions == {f"{namespace}/a/#": 0, f"{namespace}/b/+": 1}
        await answered(feed, namespace)
        for topic in ("a/1", "b/1", "c/1"):
            await publisher.publish(PublishRequest(f"{namespace}/{topic}", b"x", qos=1))
        await got.until(2)
        assert feed.unsubscribe(f"{namespace}/a/#")
        assert not feed.unsubscribe(f"{namespace}/a/#")
        await answered(feed, namespace)
        for topic in ("a/2", "b/2", "b/last"):  # a/2 would come before b/last
            await publisher.publish(PublishRequest(f"{namespace}/{topic}", b"x", qos=1))
        await got.until(4)
        topics = [m.topic.removeprefix(f"{namespace}/") for m in got.pull()]
        assert topics == ["a/1", "b/1", "b/2", "b/last"]


async def test_bad_filters_and_qos_are_refused_before_sending(broker: Mosquitto):
    feed = InspectorFeed(settings_for(broker.url))
    with pytest.raises(InvalidFilter):
        feed.subscribe("a/#/b")
    with pytest.raises(ValueError, match="QoS"):
        feed.subscribe("a/b", 3)
    assert feed.subscriptions == {}


async def test_dry_run_then_clear_retained(broker: Mosquitto, namespace: str):
    async with running(broker.url) as feed:
        for topic in ("x/1", "x/2", "y/1"):
            await feed.publish(PublishRequest(f"{namespace}/{topic}", b"v", qos=1, retain=True))
        found = await feed.find_retained(f"{namespace}/x/#")
        assert sorted(found) == [f"{namespace}/x/1", f"{namespace}/x/2"]
        assert sorted(await feed.find_retained(f"{namespace}/x/#")) == sorted(found)  # dry
        outcome = await feed.clear_retained(found)
        assert outcome.cleared == 2 and not outcome.refused
        assert await feed.find_retained(f"{namespace}/x/#") == []
        assert await feed.find_retained(f"{namespace}/y/#") == [f"{namespace}/y/1"]


async def test_a_full_buffer_drops_and_counts(broker: Mosquitto, namespace: str):
    async with running(broker.url, f"{namespace}/#", buffer_size=10) as feed:
        async with running(broker.url) as publisher:
            for i in range(25):
                await publisher.publish(PublishRequest(f"{namespace}/n", str(i).encode(), qos=1))
        await wait_until(lambda: feed.received == 25)
        assert feed.dropped == 15
        kept = feed.take(100)
        assert [m.payload for m in kept] == [str(i).encode() for i in range(10)]
        assert feed.take(100) == []


async def test_falls_back_to_mqtt_3_1_1(broker: Mosquitto, namespace: str):
    async with V311OnlyProxy(broker.port) as proxy, running(proxy.url, f"{namespace}/#") as feed:
        assert feed.connection.protocol == "3.1.1"
        assert "refused MQTT 5" in feed.connection.detail
        assert proxy.refused_v5 == 1
        # asked after the subscription (the feed's requests go in order): it comes back
        outcome = await feed.publish(
            PublishRequest(f"{namespace}/t", b"hi", qos=1, content_type="text/plain")
        )
        assert outcome.acknowledged and outcome.dropped_properties
        [message] = await Collected(feed).until(1)
        assert message.properties is None


async def test_bad_login_fails_for_good(tmp_path: Path):
    from tests.support.mosquitto import require_mosquitto

    require_mosquitto()
    server = Mosquitto(tmp_path / "m", users={"alice": "right"}).start()
    try:
        url = f"mqtt://alice:hunter2@127.0.0.1:{server.port}"
        feed = InspectorFeed(settings_for(url))
        feed.start()
        await wait_until(lambda: feed.connection.state is ConnectionState.FAILED)
        assert "refused the login" in feed.connection.detail
        assert "hunter2" not in feed.connection.detail
        await feed.stop()
        # …and the right password from MQCHAT_PASSWORD's place (Settings.password) works
        feed = InspectorFeed(settings_for(f"mqtt://127.0.0.1:{server.port}", "alice", "right"))
        feed.start()
        await wait_until(lambda: connected(feed))
        await feed.stop()
    finally:
        server.stop()


async def test_refused_connection_retries_then_connects_and_resubscribes(
    own_broker: Mosquitto, namespace: str
):
    own_broker.stop()
    feed = InspectorFeed(settings_for(own_broker.url), backoff=Backoff(initial=0.1, cap=0.3))
    feed.subscribe(f"{namespace}/#", 1)
    feed.start()
    try:
        await wait_until(lambda: feed.connection.state is ConnectionState.RETRYING)
        assert "connection refused" in feed.connection.detail
        with pytest.raises(FeedError, match="not connected"):
            await feed.publish(PublishRequest(f"{namespace}/t"))
        own_broker.start()
        await wait_until(lambda: connected(feed))
        # lost and back again: subscriptions are made anew on the clean session
        own_broker.stop()
        await wait_until(lambda: feed.connection.state is ConnectionState.RETRYING)
        own_broker.start()
        await wait_until(lambda: connected(feed))
        await answered(feed, namespace)  # subscribed again
        async with running(own_broker.url) as publisher:
            await publisher.publish(PublishRequest(f"{namespace}/after", b"1", qos=1))
        [message] = await Collected(feed).until(1)
        assert message.topic == f"{namespace}/after"
    finally:
        await feed.stop()


def feed_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "inspect" in t.name]


async def test_clean_stop(broker: Mosquitto, namespace: str):
    feed = InspectorFeed(settings_for(broker.url))
    feed.subscribe(f"{namespace}/#")
    feed.start()
    await wait_until(lambda: connected(feed))
    assert len(feed_threads()) == 1  # the feed reads on its own thread, paho has none
    await feed.stop()
    await feed.stop()  # idempotent
    assert feed.connection.state is ConnectionState.CLOSED
    assert feed_threads() == []
    await wait_until(lambda: "mqchat-inspect-" in broker.log())
    log = broker.log()
    client_id = log[log.rindex("mqchat-inspect-") :].split()[0]
    await wait_until(lambda: f"Client {client_id} disconnected." in broker.log())
    with pytest.raises(FeedError, match="not connected"):
        await feed.publish(PublishRequest(f"{namespace}/t"))


async def test_stop_while_retrying_is_quick(tmp_path: Path):
    from tests.support.mosquitto import free_port

    feed = InspectorFeed(settings_for(f"mqtt://127.0.0.1:{free_port()}"))
    feed.start()
    await wait_until(lambda: feed.connection.state is ConnectionState.RETRYING)
    async with asyncio.timeout(2):
        await feed.stop()
    assert feed.connection.state is ConnectionState.CLOSED
