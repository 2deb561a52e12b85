"""``mqchat probe``: what a broker supports, measured. Each capability is tried on
connections of its own (a broker may drop one for a QoS or a topic it refuses),
all at once, on topics under a random ``mqchat-probe/<hex>/`` prefix; what an MQTT 5
CONNACK *says* is reported beside what was seen. A check that cannot be decided
says so (value ``None``) with the reason, rather than guessing.

The version is chosen the way the chat chooses it (:class:`ProtocolChoice`: MQTT 5,
then 3.1.1 if the broker refuses 5), and a subscription's grant is read as ``mqchat
pub`` and the inspector read it (:func:`~mqchat.mqtt.qos_limit.granted_qos`), so the
probe reports what mqchat itself will do on that broker."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from mqchat.config.settings import Settings
from mqchat.core.probe import Finding, ProbeReport, Value
from mqchat.mqtt.errors import LinkError, MqttError, PublishRefused, describe_failure
from mqchat.mqtt.forget import discard_session
from mqchat.mqtt.probe_conn import Conn, Connections, Lost
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.session import Incoming, Will, open_session
from mqchat.mqtt.tls import TlsSetupError

__all__ = ["ANSWER_WAIT", "PROBE_PREFIX", "TOPIC_CHARACTERS", "probe", "probe_broker"]

_LOG = logging.getLogger("mqchat.probe")

PROBE_PREFIX = "mqchat-probe"
ANSWER_WAIT = 1.0
"""Seconds a message has to come back before it counts as not delivered: a local
broker answers in milliseconds, a distant one in a few hundred."""
WILL_WAIT = 2.0
"""A broker publishes the Will when it notices the dead socket: at once for a
closed one (mosquitto: 2-4 ms)."""
SETTLE = 0.2
"""After the last expected message, how long to watch for duplicates."""
CHECK_LIMIT = 4.0
"""No check runs longer than this, whatever the broker does."""
SESSION_EXPIRY = 60
"""The probe's persistent session outlives it by at most this many seconds (MQTT 5);
it is discarded at once anyway."""
BIG = 1024 * 1024
SMALL = 64 * 1024

TOPIC_CHARACTERS: tuple[tuple[str, str], ...] = (
    (".", "'.'"),
    (" ", "space"),
    ("*", "'*'"),
    (">", "'>'"),
    ("$", "'$'"),
    ("~", "'~'"),
    ("é", "'é'"),
    ("//", "empty level"),
)
"""(characters, name) tried inside a topic name (``a.b``, ``a//b``…): legal in
MQTT, but NATS maps topics onto its subjects (``.`` and space drop the connection
there)."""


@dataclass
class _Probe:
    """One probe of one broker: the checks, and what they share (the version spoken,
    the CONNACK's properties, the topic prefix, problems met cleaning up)."""

    settings: Settings
    protocol: Protocol
    prefix: str
    connack: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    links: Connections = field(init=False)

    def __post_init__(self) -> None:
        self.links = Connections(self.settings, self.protocol, self.topic("none"))

    def conn(
        self, settings: Settings | None = None, **kwargs: Any
    ) -> contextlib.AbstractAsyncContextManager[Conn]:
        """A connection of its own: :meth:`Connections.conn`."""
        return self.links.conn(settings, **kwargs)

    def topic(self, *levels: str) -> str:
        return "/".join((self.prefix, *levels))

    def said(self, name: str, absent: Value) -> Value:
        """A CONNACK property (absent: its default); ``None`` with 3.1.1."""
        if self.protocol is not Protocol.V5:
            return None
        value = self.connack.get(name)
        return absent if value is None else value

    def said_flag(self, name: str) -> bool | None:
        value = self.said(name, 1)
        return None if value is None else bool(value)

    # --- the checks --------------------------------------------------------------------

    async def control(self) -> str | None:
        """``None`` when a plain QoS 1 message under the prefix comes back, else why
        not: then the checks that send their own say nothing (an ACL forbidding the
        prefix looks, with MQTT 3.1.1, exactly like a missing capability)."""
        topic = self.topic("control")
        try:
            async with self.conn() as conn:
                granted = await conn.subscribe((topic, 1))
                if granted[0] is None:
                    return "refused a subscription"
                await conn.publish(topic, b"mqchat probe: control", 1)
                got = await conn.first(_on(topic), ANSWER_WAIT)
        except PublishRefused as exc:
            return f"refused a message ({exc.reason})"
        except Lost as exc:
            return f"closed the connection ({exc.reason})"
        return None if got is not None else "never delivered a message"

    async def max_qos(self) -> Finding:
        said = self.said("MaximumQoS", 2)
        one, two = self.topic("qos", "1"), self.topic("qos", "2")
        async with self.conn() as sub:
            granted = await sub.subscribe((one, 2), (two, 2))
            if granted[1] is None:
                return _unknown("max_qos", "maximum QoS", "a QoS 2 subscription was refused", said)
            await sub.publish(one, b"qos 1", 1)
            outcome = "completed"
            wait = ANSWER_WAIT * 2
            try:
                # on a connection of its own: a broker without QoS 2 closes it
                async with self.conn() as pub, asyncio.timeout(wait):
                    await pub.publish(two, b"qos 2", 2)
            except Lost as exc:
                outcome = f"closed the connection ({exc.reason})"
            except TimeoutError:
                outcome = f"got no answer in {wait:g} s"
            got_two = None if outcome != "completed" else await sub.first(_on(two), ANSWER_WAIT)
            got_one = await sub.first(_on(one), ANSWER_WAIT)
        note = f"QoS 2 subscription granted {granted[1]}; a QoS 2 publish {outcome}"
        if got_two is not None and got_two.qos == 2:
            return Finding("max_qos", "maximum QoS", 2, note, said)
        if got_one is not None and got_one.qos >= 1:
            return Finding("max_qos", "maximum QoS", 1, note, said)
        if got_one is not None:
            return Finding("max_qos", "maximum QoS", 0, note, said)
        return _unknown("max_qos", "maximum QoS", "a QoS 1 message never came back", said)

    async def retain(self) -> Finding:
        said = self.said_flag("RetainAvailable")
        key, label = "retain", "retained messages"
        topic = self.topic("retain")
        try:
            got = await self._retained_round_trip(topic)
        except Lost as exc:
            return Finding(key, label, False, _closed(exc, "a retained publish"), said)
        if got is None:
            return Finding(key, label, False, "not kept for a new subscriber", said)
        if not got.retain:
            note = "came back to a new subscriber without the retain flag"
            return Finding(key, label, False, note, said)
        return Finding(key, label, True, "kept for a new subscriber", said)

    async def _retained_round_trip(self, topic: str) -> Incoming | None:
        """Publish a retained message, then see whether a new subscription gets it;
        the message is cleared whatever happens."""
        cleared = False
        try:
            async with self.conn() as pub:
                try:
                    await pub.publish(topic, b"mqchat probe: retained", 1, retain=True)
                except PublishRefused:
                    cleared = True  # refused: nothing was kept
                    raise
                try:
                    async with self.conn() as sub:
                        await sub.subscribe((topic, 1))
                        return await sub.first(_on(topic), ANSWER_WAIT)
                finally:
                    if pub.lost is None:
                        with contextlib.suppress(Lost, MqttError, PublishRefused):
                            await pub.publish(topic, b"", 1, retain=True)
                            cleared = True
        finally:
            if not cleared:
                await self._clear_retained(topic)

    async def _clear_retained(self, topic: str) -> None:
        try:
            async with asyncio.timeout(CHECK_LIMIT), self.conn() as conn:
                await conn.publish(topic, b"", 1, retain=True)
        except (Lost, MqttError, PublishRefused, TimeoutError) as exc:
            self.problems.append(f"the retained message on {topic!r} may be left: {exc}")

    async def wildcards(self) -> Finding:
        said = self.said_flag("WildcardSubscriptionAvailable")
        plus, hash_ = self.topic("wild", "a", "x"), self.topic("hash", "a", "b")
        async with self.conn() as conn:
            granted = await conn.subscribe(
                (self.topic("wild", "+", "x"), 1), (self.topic("hash", "#"), 1)
            )
            works = []
            for sign, topic, ok in (("+", plus, granted[0]), ("#", hash_, granted[1])):
                if ok is None:
                    continue
                await conn.publish(topic, b"wildcard", 1)
                if await conn.first(_on(topic), ANSWER_WAIT) is not None:
                    works.append(sign)
        refused = [s for s, g in zip("+#", granted, strict=True) if g is None]
        note = "refused: " + " and ".join(refused) if refused else ""
        text = {2: "yes (+ and #)", 0: "no"}.get(len(works), f"only {''.join(works)}")
        if not note:
            note = "messages came through + and #" if len(works) == 2 else "never came back"
        return Finding("wildcards", "wildcard subscriptions", works, note, said, text)

    async def shared(self) -> Finding:
        said = self.said_flag("SharedSubscriptionAvailable")
        topic = self.topic("shared")
        share = f"$share/{self.prefix.rsplit('/', 1)[-1]}/{topic}"
        key, label = "shared", "shared subscriptions"
        async with self.conn() as a, self.conn() as b:
            granted = [*(await a.subscribe((share, 1))), *(await b.subscribe((share, 1)))]
            if None in granted:
                return Finding(key, label, False, "the $share subscription was refused", said)
            sent = 4
            for n in range(sent):
                await a.publish(topic, str(n).encode(), 1)
            deadline = time.monotonic() + ANSWER_WAIT
            while a.count(topic) + b.count(topic) < sent and time.monotonic() < deadline:
                on_b = asyncio.ensure_future(b.changed())
                try:
                    await a.changed(on_b, wait=deadline - time.monotonic())
                finally:
                    on_b.cancel()
            await asyncio.sleep(SETTLE)  # duplicates would come now
            counts = (a.count(topic), b.count(topic))
        total = sum(counts)
        split = f"{counts[0]} + {counts[1]}"
        if total == sent:
            return Finding(key, label, True, f"{sent} messages shared out: {split}", said)
        if total == 0:
            note = "nothing came: the $share/… filter is taken as a plain topic filter"
            return Finding(key, label, False, note, said)
        if total == 2 * sent:
            return Finding(key, label, False, f"each subscriber got every message ({split})", said)
        return _unknown(key, label, f"{total} of {sent} messages came ({split})", said)

    async def packet_size(self) -> Finding:
        said = self.said("MaximumPacketSize", None)
        limit = said if isinstance(said, int) else None
        sizes = [SMALL, BIG] if limit is None else [min(SMALL, limit - 256), limit - 256]
        tried = await asyncio.gather(*(self._round_trip(size) for size in sizes))
        came = [size for size, why in zip(sizes, tried, strict=True) if why is None]
        failed = [f"{_size(s)}: {why}" for s, why in zip(sizes, tried, strict=True) if why]
        key, label = "max_packet", "maximum packet size"
        if said is None and self.protocol is Protocol.V5:
            said = "no limit"
        if not came:
            return _unknown(key, label, "; ".join(failed), said)
        best = max(came)
        note = f"{_size(best)} came back" + (f"; {'; '.join(failed)}" if failed else "")
        if limit is None and best == BIG:
            note += " (larger not tried)"
        return Finding(key, label, best, note, said, f">= {_size(best)}")

    async def _round_trip(self, size: int) -> str | None:
        """``None`` when a ``size``-byte message came back whole, else why not."""
        topic = self.topic("size", str(size))
        wait = ANSWER_WAIT * 2
        try:
            async with self.conn() as conn:
                await conn.subscribe((topic, 1))
                async with asyncio.timeout(wait):
                    await conn.publish(topic, bytes(size), 1)
                    got = await conn.first(_on(topic), wait)
        except TimeoutError:
            return f"no answer in {wait:g} s"
        except Lost as exc:
            return f"closed the connection ({exc.reason})"
        except PublishRefused as exc:
            return f"refused ({exc.reason})"
        if got is None:
            return "never came back"
        return None if len(got.payload) == size else f"came back as {len(got.payload)} bytes"

    async def topic_characters(self) -> Finding:
        key, label = "topic_refused", "topic characters refused"
        results = await asyncio.gather(
            *(self._character(n, chars) for n, (chars, _name) in enumerate(TOPIC_CHARACTERS))
        )
        failed = [
            (c, name, why) for (c, name), why in zip(TOPIC_CHARACTERS, results, strict=True) if why
        ]
        note = "; ".join(f"{name} {why}" for _c, name, why in failed)
        if not failed:
            tried = " ".join(name.strip("'") for _c, name in TOPIC_CHARACTERS)
            return Finding(key, label, [], f"all came back unchanged: {tried}")
        if all(why.startswith("unknown") for _c, _n, why in failed):
            return _unknown(key, label, note)
        refused = [(c, name) for c, name, why in failed if not why.startswith("unknown")]
        text = ", ".join(name for _c, name in refused)
        return Finding(key, label, [c for c, _n in refused], note, text=text)

    async def _character(self, n: int, chars: str) -> str | None:
        """``None`` when a topic with ``chars`` inside came back unchanged, else what
        happened to it."""
        base = self.topic("char", str(n))
        topic = f"{base}/a{chars}b"
        try:
            async with self.conn() as conn:
                granted = await conn.subscribe((f"{base}/#", 1))
                if granted[0] is None:
                    return "unknown: the subscription was refused"
                await conn.publish(topic, b"mqchat probe: topic characters", 1)
                got = await conn.first(lambda m: m.topic.startswith(base), ANSWER_WAIT)
        except Lost as exc:
            return f"closed the connection ({exc.reason})"
        except PublishRefused as exc:
            return f"refused ({exc.reason})"
        except MqttError as exc:
            return f"unknown: {exc}"
        if got is None:
            return "never came back"
        return None if got.topic == topic else f"came back as {got.topic!r}"

    async def sys_topics(self) -> Finding:
        key, label = "sys", "$SYS topics"
        async with self.conn() as conn:
            granted = await conn.subscribe(("$SYS/#", 0))
            if granted[0] is None:
                return Finding(key, label, False, "the $SYS/# subscription was refused")
            got = await conn.first(lambda m: m.topic.startswith("$SYS/"), ANSWER_WAIT)
            if got is None:
                return Finding(key, label, False, f"nothing came in {ANSWER_WAIT:g} s")
            version = await conn.first(_on("$SYS/broker/version"), SETTLE)
        seen = version or got
        payload = seen.payload[:60].decode("utf-8", "replace")
        return Finding(key, label, True, f"{seen.topic}: {payload}")

    async def session(self) -> Finding:
        key, label = "session", "persistent sessions"
        client_id = f"mqchat-probe-{secrets.token_hex(4)}"
        settings = dataclasses.replace(self.settings, session_expiry=SESSION_EXPIRY)
        topic = self.topic("session")
        said: Value = None
        try:
            async with self.conn(settings, session_id=client_id) as first:
                granted = await first.subscribe((topic, 1))
                props = first.session.connack_properties or {}
                said = props.get("SessionExpiryInterval")
                if granted[0] is None:
                    return _unknown(key, label, "the subscription was refused", said)
            async with self.conn() as pub:
                await pub.publish(topic, b"mqchat probe: queued", 1)
            async with self.conn(settings, session_id=client_id) as again:
                present = again.session.session_present
                got = await again.first(_on(topic), ANSWER_WAIT)
        finally:
            await self._discard(client_id)
        if said is not None:
            said = f"{said} s"
        if got is not None:
            return Finding(key, label, True, "resumed; a QoS 1 message sent while away came", said)
        if present:
            note = "resumed, but the QoS 1 message sent while away never came"
            return Finding(key, label, False, note, said)
        return Finding(key, label, False, "not kept for this login (no session present)", said)

    async def _discard(self, client_id: str) -> None:
        try:
            async with self.links.gate.change():  # its clean start ends its subscriptions
                await asyncio.to_thread(
                    discard_session, self.settings, client_id, ProtocolChoice(self.protocol)
                )
        except LinkError as exc:
            self.problems.append(f"the probe's session {client_id} may be left: {exc.reason}")

    async def will(self) -> Finding:
        key, label = "will", "Will delivery"
        topic = self.topic("will")
        will = Will(topic, b"mqchat probe: will", qos=1, retain=False)
        async with self.conn() as watch:
            await watch.subscribe((topic, 1))
            async with self.conn(will=will) as dying:
                dying.session.drop()
                dropped = time.monotonic()
                # until the reader has seen the end (and taken aiomqtt's error)
                with contextlib.suppress(Lost):
                    await dying.first(lambda _m: False, WILL_WAIT)
            got = await watch.first(_on(topic), WILL_WAIT)
        if got is None:
            return Finding(key, label, False, f"nothing came in {WILL_WAIT:g} s after a drop")
        ms = (time.monotonic() - dropped) * 1000
        return Finding(key, label, True, f"came {ms:.0f} ms after a connection dropped")


def _on(topic: str) -> Callable[[Incoming], bool]:
    return lambda m: m.topic == topic


def _unknown(key: str, label: str, why: str, said: Value = None) -> Finding:
    return Finding(key, label, None, why, said)


def _closed(exc: Lost, what: str) -> str:
    return f"{what} closed the connection ({exc.reason})"


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,} B"


_CHECKS: tuple[tuple[str, str, Callable[[_Probe], Coroutine[Any, Any, Finding]]], ...] = (
    ("max_qos", "maximum QoS", _Probe.max_qos),
    ("retain", "retained messages", _Probe.retain),
    ("wildcards", "wildcard subscriptions", _Probe.wildcards),
    ("shared", "shared subscriptions", _Probe.shared),
    ("max_packet", "maximum packet size", _Probe.packet_size),
    ("topic_refused", "topic characters refused", _Probe.topic_characters),
    ("sys", "$SYS topics", _Probe.sys_topics),
    ("session", "persistent sessions", _Probe.session),
    ("will", "Will delivery", _Probe.will),
)


_OWN_TOPICS = {"sys"}
"""Checks whose topics are not under the probe's prefix."""


async def _controlled(state: _Probe, settings: Settings) -> str | None:
    try:
        async with asyncio.timeout(CHECK_LIMIT):
            return await state.control()
    except TimeoutError:
        return f"did not answer within {CHECK_LIMIT:g} s"
    except (MqttError, OSError) as exc:
        return f"could not be reached ({describe_failure(exc, settings).reason})"


async def _guarded(
    key: str, label: str, check: Coroutine[Any, Any, Finding], settings: Settings
) -> Finding:
    """``check``'s finding, or an unknown one saying what stopped it."""
    try:
        async with asyncio.timeout(CHECK_LIMIT):
            return await check
    except TimeoutError:
        return _unknown(key, label, f"no answer within {CHECK_LIMIT:g} s")
    except Lost as exc:
        return _unknown(key, label, f"the connection closed: {exc.reason}")
    except PublishRefused as exc:
        return _unknown(key, label, f"a publish was refused: {exc.reason}")
    except (MqttError, OSError) as exc:
        return _unknown(key, label, describe_failure(exc, settings).reason)


async def probe(settings: Settings, protocol: Protocol | None = None) -> ProbeReport:
    """Measure what the broker of ``settings`` supports. ``protocol``: the version
    to speak (default: the settings', else MQTT 5, and 3.1.1 if refused). Raises
    :class:`LinkError` when the broker cannot be reached at all."""
    started = time.monotonic()
    choice = ProtocolChoice.of(settings, protocol)
    refusal = ""
    try:
        while True:
            try:
                async with open_session(settings, choice.current) as session:
                    connack = session.connack_properties or {}
                break
            except MqttError as exc:
                if not choice.fall_back(exc):
                    raise
                refusal = str(exc)
    except (MqttError, OSError, TlsSetupError) as exc:
        failure = describe_failure(exc, settings)
        raise LinkError(failure.reason, fatal=failure.fatal) from None
    prefix = f"{PROBE_PREFIX}/{secrets.token_hex(4)}"
    state = _Probe(settings, choice.current, prefix, connack)
    findings = [_protocol_finding(choice, refusal)]
    control_task = asyncio.ensure_future(_controlled(state, settings))
    checked = await asyncio.gather(
        *(_guarded(key, label, check(state), settings) for key, label, check in _CHECKS)
    )
    control = await control_task
    if control is not None:
        why = f"the broker {control} under {prefix}/ (an ACL?): nothing can be told"
        checked = [
            f if f.key in _OWN_TOPICS else _unknown(f.key, f.label, why, f.said) for f in checked
        ]
    findings += checked
    if choice.current is Protocol.V5:
        findings += _said_only(connack)
    return ProbeReport(
        broker=settings.broker_label,
        protocol=str(choice.current),
        findings=tuple(findings),
        elapsed=time.monotonic() - started,
        problems=tuple(state.problems),
    )


def _protocol_finding(choice: ProtocolChoice, refusal: str) -> Finding:
    if choice.fell_back:
        note = f"MQTT 5 refused ({refusal})" if refusal else "MQTT 5 refused"
        return Finding("protocol", "MQTT version", "3.1.1", note, text="3.1.1 only")
    if choice.forced is Protocol.V311:
        return Finding("protocol", "MQTT version", "3.1.1", "as asked (-V 3.1.1): 5 not tried")
    return Finding("protocol", "MQTT version", "5", "MQTT 5 accepted")


def _said_only(connack: dict[str, Any]) -> list[Finding]:
    """What an MQTT 5 CONNACK says that the probe does not try."""
    aliases = int(connack.get("TopicAliasMaximum") or 0)
    receive = connack.get("ReceiveMaximum")
    return [
        Finding("topic_aliases", "topic aliases", aliases, "as the CONNACK says; not tried"),
        Finding(
            "receive_maximum",
            "receive maximum",
            65535 if receive is None else int(receive),
            "QoS 1/2 messages in flight to it, as the CONNACK says; not tried",
        ),
    ]


def probe_broker(settings: Settings, protocol: Protocol | None = None) -> ProbeReport:
    """:func:`probe` on a loop of its own. Raises :class:`LinkError`."""

    async def quietly() -> ProbeReport:
        asyncio.get_running_loop().set_exception_handler(_closed_under_us)
        return await probe(settings, protocol)

    return asyncio.run(quietly())


def _closed_under_us(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's error handler. A connection the broker closes while paho writes to
    it, or whose loss nobody awaited, is what some checks provoke and their notes
    report: logged, not printed over the report. Anything else as usual."""
    if isinstance(context.get("exception"), OSError | MqttError | aiomqtt.MqttError):
        _LOG.debug("probe: %s", context.get("message"), exc_info=context.get("exception"))
        return
    loop.default_exception_handler(context)
