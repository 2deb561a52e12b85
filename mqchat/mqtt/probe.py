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
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aiomqtt

from mqchat.config.settings import Settings
from mqchat.core.probe import Finding, ProbeReport
from mqchat.mqtt.errors import LinkError, MqttError, PublishRefused, describe_failure
from mqchat.mqtt.probe_checks import ProbeChecks
from mqchat.mqtt.probe_conn import Lost
from mqchat.mqtt.probe_state import CHECK_LIMIT, unknown
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.session import open_session
from mqchat.mqtt.tls import TlsSetupError

__all__ = ["PROBE_PREFIX", "probe", "probe_broker"]

_LOG = logging.getLogger("mqchat.probe")

PROBE_PREFIX = "mqchat-probe"


_CHECKS: tuple[tuple[str, str, Callable[[ProbeChecks], Coroutine[Any, Any, Finding]]], ...] = (
    ("max_qos", "maximum QoS", ProbeChecks.max_qos),
    ("retain", "retained messages", ProbeChecks.retain),
    ("wildcards", "wildcard subscriptions", ProbeChecks.wildcards),
    ("shared", "shared subscriptions", ProbeChecks.shared),
    ("max_packet", "maximum packet size", ProbeChecks.packet_size),
    ("topic_refused", "topic characters refused", ProbeChecks.topic_characters),
    ("sys", "$SYS topics", ProbeChecks.sys_topics),
    ("session", "persistent sessions", ProbeChecks.session),
    ("will", "Will delivery", ProbeChecks.will),
)


_OWN_TOPICS = {"sys"}
"""Checks whose topics are not under the probe's prefix."""


async def _controlled(state: ProbeChecks, settings: Settings) -> str | None:
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
        return unknown(key, label, f"no answer within {CHECK_LIMIT:g} s")
    except Lost as exc:
        return unknown(key, label, f"the connection closed: {exc.reason}")
    except PublishRefused as exc:
        return unknown(key, label, f"a publish was refused: {exc.reason}")
    except (MqttError, OSError) as exc:
        return unknown(key, label, describe_failure(exc, settings).reason)


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
    state = ProbeChecks(settings, choice.current, prefix, connack)
    findings = [_protocol_finding(choice, refusal)]
    control_task = asyncio.ensure_future(_controlled(state, settings))
    checked = await asyncio.gather(
        *(_guarded(key, label, check(state), settings) for key, label, check in _CHECKS)
    )
    control = await control_task
    if control is not None:
        why = f"the broker {control} under {prefix}/ (an ACL?): nothing can be told"
        checked = [
            f if f.key in _OWN_TOPICS else unknown(f.key, f.label, why, f.said) for f in checked
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
