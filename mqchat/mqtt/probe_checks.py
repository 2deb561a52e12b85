"""The checks of ``mqchat probe``, one method per capability: each tries it on
connections of its own (a broker may drop one for a QoS or a topic it refuses), on
topics under the probe's prefix, and says what was seen beside what the CONNACK said.
Running them all at once, guarded and timed, is ``mqtt/probe.py``'s part."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable

from mqchat.core.probe import Finding, Value
from mqchat.mqtt.errors import LinkError, MqttError, PublishRefused
from mqchat.mqtt.forget import discard_session
from mqchat.mqtt.probe_conn import Lost
from mqchat.mqtt.probe_state import CHECK_LIMIT, ProbeState, unknown
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.session import Incoming, Will

__all__ = ["ANSWER_WAIT", "TOPIC_CHARACTERS", "ProbeChecks"]

ANSWER_WAIT = 1.0
"""Seconds a message has to come back before it counts as not delivered: a local
broker answers in milliseconds, a distant one in a few hundred."""
WILL_WAIT = 2.0
"""A broker publishes the Will when it notices the dead socket: at once for a
closed one (mosquitto: 2-4 ms)."""
SETTLE = 0.2
"""After the last expected message, how long to watch for duplicates."""
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


class ProbeChecks(ProbeState):
    """The checks of one probe: each returns its :class:`Finding` (``control``: why
    nothing under the prefix can be told, or ``None``)."""

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
                return unknown("max_qos", "maximum QoS", "a QoS 2 subscription was refused", said)
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
        return unknown("max_qos", "maximum QoS", "a QoS 1 message never came back", said)

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
        return unknown(key, label, f"{total} of {sent} messages came ({split})", said)

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
            return unknown(key, label, "; ".join(failed), said)
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
            return unknown(key, label, note)
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
                    return unknown(key, label, "the subscription was refused", said)
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


def _closed(exc: Lost, what: str) -> str:
    return f"{what} closed the connection ({exc.reason})"


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,} B"
