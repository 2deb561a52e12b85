"""Broker URLs: what is accepted, and clear refusals for the rest."""

from __future__ import annotations

import pytest

from mqchat.broker_url import BrokerUrlError, parse_broker_url


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("mqtt://localhost:1883", "localhost", 1883),
        ("mqtt://broker.example", "broker.example", 1883),
        ("localhost:1884", "localhost", 1884),
        ("mqtt://[::1]:1885", "::1", 1885),
        ("tcp://h:1", "h", 1),
    ],
)
def test_accepted_urls(url: str, host: str, port: int) -> None:
    parsed = parse_broker_url(url)
    assert (parsed.host, parsed.port) == (host, port)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "empty"),
        ("http://x", "unsupported scheme 'http'"),
        ("mqtt://", "no host"),
        ("mqtt://h:99999", "out of range"),
        ("mqtt://h:abc", "invalid broker URL"),
        ("mqtt://h/path", "path"),
    ],
)
def test_refused_urls_say_why(url: str, says: str) -> None:
    with pytest.raises(BrokerUrlError) as info:
        parse_broker_url(url)
    assert says in str(info.value)


def test_credentials_are_parsed_but_never_shown() -> None:
    parsed = parse_broker_url("mqtt://alice:s3cret@h:1883")
    assert parsed.username == "alice" and parsed.password == "s3cret"
    assert "s3cret" not in repr(parsed) and "s3cret" not in str(parsed)
    with pytest.raises(BrokerUrlError) as info:
        parse_broker_url("mqtt://alice:s3cret@h:bad")
    assert "s3cret" not in str(info.value)
