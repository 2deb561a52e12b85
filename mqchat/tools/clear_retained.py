"""``mqchat clear-retained``: find the retained messages under a filter and clear each
one with an empty retained publish. Live (non-retained) traffic is never touched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mqchat.config.settings import Settings
from mqchat.mqtt.errors import LinkError, Reason
from mqchat.mqtt.link import open_link
from mqchat.mqtt.protocol import Protocol, ProtocolChoice
from mqchat.mqtt.retained import clear_topics, collect_retained

__all__ = ["ClearRequest", "ClearResult", "clear_retained"]


@dataclass(frozen=True, slots=True)
class ClearRequest:
    topic_filter: str
    """Already checked (:func:`~mqchat.tools.rules.check_filter`)."""
    dry_run: bool = False
    """Only list what would be cleared."""
    settle: float = 0.5
    """Retained messages come right after the SUBACK: collecting ends once none has
    come for this many seconds."""
    timeout: float = 10.0
    """Collecting ends after this many seconds anyway, even if they keep coming."""
    passes: int = 3
    """After clearing, look again (a broker may have dropped some of a huge set from
    its queue, or somebody republished); clear and look again at most this often."""


@dataclass(slots=True)
class ClearResult:
    found: list[str] = field(default_factory=list)
    """Every topic seen with a retained message, in the order found."""
    cleared: int = 0
    """Empty retained messages the broker accepted."""
    refused: dict[str, str] = field(default_factory=dict)
    """Topic -> the broker's reason, for clears it refused (MQTT 5 only tells)."""
    remaining: list[str] = field(default_factory=list)
    """Topics still retained after the last pass (never cleared in a dry run)."""

    def note(self, topic: str, answer: Reason) -> None:
        """The broker's answer to clearing ``topic``."""
        if answer.is_failure:
            self.refused[topic] = str(answer)
        else:
            self.cleared += 1


def clear_retained(
    settings: Settings,
    request: ClearRequest,
    *,
    protocol: Protocol | None = None,
    on_found: Callable[[str], None] = lambda _topic: None,
) -> ClearResult:
    """Find (and unless ``request.dry_run``, clear) the retained messages under
    ``request.topic_filter``; ``on_found`` hears of each topic once, as soon as it is
    known. Raises :class:`LinkError`.

    mosquitto 2.0 (with ``max_queued_messages 0``) drops a client right after
    refusing its QoS 1 publish, and with clears still unread it resets the
    connection, so even the refusal can be lost. After such a drop the rest is
    cleared on a new connection one topic at a time, which shows which topic is
    refused; each refusal learnt this way does not count as a pass."""
    result = ClearResult()
    choice = ProtocolChoice.of(settings, protocol)
    link = open_link(settings, choice, role="clear")
    passes_left = max(1, request.passes)
    one_by_one = False
    try:
        while True:
            if not link.connected:
                link = open_link(settings, choice, role="clear")
            found = collect_retained(
                link, request.topic_filter, settle=request.settle, timeout=request.timeout
            )
            topics = [t for t in found if t not in result.refused]
            known = set(result.found)
            for topic in topics:
                if topic not in known:
                    result.found.append(topic)
                    on_found(topic)
            result.remaining = topics
            if request.dry_run or not topics or passes_left == 0:
                return result
            passes_left -= 1
            refused = len(result.refused)
            timeout = settings.connect_timeout * 2 + len(topics) / 1000
            try:
                clear_topics(
                    link,
                    topics,
                    result.note,
                    window=1 if one_by_one else len(topics),
                    timeout=timeout,
                )
            except LinkError:
                if one_by_one and len(result.refused) == refused:
                    raise  # dropped for no reason we can see: a real failure
                one_by_one = True
                passes_left += 1
                link.close()
                continue
            if len(result.refused) > refused:
                passes_left += 1
    finally:
        link.close()
