"""Broker URLs: what is accepted, and clear refusals for the rest."""

from __future__ import annotations

import pytest

from mqchat.config.broker_url import BrokerUrlError, parse_broker_url


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


@pytest.mark.parametrize(
    ("url", "scheme", "port", "path", "tls", "websocket"),
    [
        ("mqtts://h", "mqtts", 8883, "", True, False),
        ("mqtts://h:8884", "mqtts", 8884, "", True, False),
        ("ws://h", "ws", 80, "/mqtt", False, True),
        ("ws://h:9001/", "ws", 9001, "/mqtt", False, True),
        ("wss://h", "wss", 443, "/mqtt", True, True),
        ("wss://h:8443/custom/path", "wss", 8443, "/custom/path", True, True),
        ("MQTTS://h", "mqtts", 8883, "", True, False),
    ],
)
def test_tls_and_websocket_schemes(
    url: str, scheme: str, port: int, path: str, tls: bool, websocket: bool
) -> None:
    parsed = parse_broker_url(url)
    assert (parsed.scheme, parsed.port, parsed.path) == (scheme, port, path)
    assert (parsed.tls, parsed.websocket) == (tls, websocket)


def test_the_url_shown_is_the_url_without_credentials_and_parses_back() -> None:
    parsed = parse_broker_url("wss://alice:s3cret@h:8443/ws")
    assert str(parsed) == "wss://h:8443/ws"
    assert parse_broker_url(str(parsed)) == parse_broker_url("wss://h:8443/ws")
    assert "s3cret" not in repr(parsed) and "s3cret" not in parsed.label


@pytest.mark.parametrize(
    "url",
    [
        "mqtts://alice:s3cret@h/path",  # a path only for ws
        "ws://alice:s3cret@h/x?y=1",  # no query
        "wss://alice:s3cret@h:bad",
        "ftp://alice:s3cret@h",
        "mqtt://alice:s3c@ret@h:bad",  # an unencoded "@" in the password
        "mqtt://alice:s3c/ret@h:1",  # an unencoded "/" in the password
    ],
)
def test_no_refusal_shows_the_password(url: str) -> None:
    with pytest.raises(BrokerUrlError) as info:
        parse_broker_url(url)
    for part in ("s3cret", "s3c", "ret@"):
        assert part not in str(info.value)


@pytest.mark.parametrize(
    ("url", "holds"),
    [
        ("mqtt://alice:s3cret@h", True),
        ("alice:s3cret@h:1883", True),
        ("mqtt://alice:pass/word@h", True),  # unreadable because of the password
        ("mqtt://a:s3c@ret@h:bad", True),
        ("mqtt://alice@h", False),
        ("ws://h:9001/p@x", False),  # an "@" in a WebSocket path
        ("mqtt://[zz", False),
        ("", False),
    ],
)
def test_has_password_tells_without_raising(url: str, holds: bool) -> None:
    from mqchat.config.broker_url import has_password

    assert has_password(url) is holds


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mqtt://h:0", "port 0"),
        ("mqtt://" + "a" * 64 + ".example", "not a valid DNS name"),
        ("mqtt://a..b", "not a valid DNS name"),
        ("mqtt://" + ("a" * 50 + ".") * 6 + "com", "longer than 253"),
        ("mqtt://a b", "a space or a control character"),
        ("mqtt://\udcff", "not UTF-8"),
        ("ws://h/a b", "the path holds a space"),
        ("ws://h/\udcff", "the path holds bytes that are not UTF-8"),
    ],
)
def test_unusable_ports_hosts_and_paths_say_why(url: str, says: str) -> None:
    with pytest.raises(BrokerUrlError) as info:
        parse_broker_url(url)
    assert says in str(info.value)
