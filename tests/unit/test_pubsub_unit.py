"""The headless pub/sub commands without a broker: topic and filter rules, the lines
`mqchat sub` prints, its output buffer, and the command line's usage errors (exit 2,
nothing sent). The fast PUBLISH decoder is tested in test_mqtt_shims.py."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, datetime

import pytest

from mqchat.cli.main import main
from mqchat.tools.rules import (
    OutputFormat,
    check_filter,
    check_topic,
    json_line,
    line_renderer,
    parse_mqtt_version,
    payload_line,
    terminal_safe,
    verbose_line,
)
from mqchat.tools.sub import OutputBuffer
from tests.support.mosquitto import free_port

# --- topics and filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["#", "+", "a", "a/b", "a/+/c", "a/#", "+/+/#", "/", "a//b", "$SYS/#", "$share/g/a/#"]
)
def test_valid_filters(text: str) -> None:
    assert check_filter(text) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a/#/b", "'#' must be a whole level"),
        ("a#", "'#' must be a whole level"),
        ("a/b#", "'#' must be a whole level"),
        ("a+/b", "'+' must be a whole level"),
        ("a/+b", "'+' must be a whole level"),
        ("", "empty"),
        ("a\x00b", "NUL"),
        ("x" * 65536, "longer than"),
        ("a/\udcff", "not valid UTF-8"),
    ],
)
def test_invalid_filters(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        check_filter(text)


@pytest.mark.parametrize("text", ["a/+", "#", "a/#", "a+b"])
def test_topics_have_no_wildcards(text: str) -> None:
    with pytest.raises(ValueError, match="subscriptions only"):
        check_topic(text)


def test_a_plain_topic_is_fine() -> None:
    assert check_topic("home/room 1/temp") == "home/room 1/temp"


@pytest.mark.parametrize(
    ("text", "version"),
    [("5", "5"), ("mqttv5", "5"), ("3.1.1", "3.1.1"), ("311", "3.1.1"), ("MQTTv311", "3.1.1")],
)
def test_mqtt_versions(text: str, version: str) -> None:
    assert parse_mqtt_version(text) == version


@pytest.mark.parametrize("text", ["3.1", "4", "mqttv31", ""])
def test_unknown_mqtt_versions(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape("use 5 or 3.1.1")):
        parse_mqtt_version(text)


# --- output lines ---------------------------------------------------------------------


def test_payload_lines_are_raw_and_one_per_message() -> None:
    assert payload_line(b"\xff\x1b[31m") == b"\xff\x1b[31m\n"
    assert payload_line(b"") == b"\n"


def test_verbose_lines_say_null_for_empty_payloads_as_mosquitto_sub() -> None:
    assert verbose_line("a/b", b"23.5") == b"a/b 23.5\n"
    assert verbose_line("a/b", b"") == b"a/b (null)\n"


def test_terminal_safe_escapes_what_could_drive_a_terminal() -> None:
    assert terminal_safe(b"ok\ttab\nnext") == b"ok\ttab\nnext"
    assert terminal_safe(b"\x1b[2J\x07\r") == b"\\x1b[2J\\x07\\x0d"
    assert terminal_safe(b"bad \xff utf8") == b"bad \\xff utf8"
    assert terminal_safe("\u202eevil \u009b".encode()) == b"\\u202eevil \\x9b"
    assert terminal_safe("grüße ✓".encode()) == "grüße ✓".encode()


def test_renderers() -> None:
    plain = line_renderer(OutputFormat.PAYLOAD, safe=False)
    assert plain("t", b"\x1bx") == b"\x1bx\n"
    safe = line_renderer(OutputFormat.PAYLOAD, safe=True)
    assert safe("t", b"\x1bx") == b"\\x1bx\n"
    verbose = line_renderer(OutputFormat.VERBOSE, safe=True)
    assert verbose("a\x1b", b"") == b"a\\x1b (null)\n"
    with pytest.raises(ValueError):
        line_renderer(OutputFormat.JSON, safe=False)


TS = datetime(2026, 11, 22, 4, 0, 0, 123456, tzinfo=UTC)


def test_json_line_text_payload() -> None:
    line = json_line("a/b", "grüße".encode(), qos=1, retain=True, ts=TS)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "topic": "a/b",
        "payload": "grüße",
        "qos": 1,
        "retain": True,
        "ts": "2026-11-22T04:00:00.123Z",
    }


def test_json_line_binary_payload_is_base64() -> None:
    obj = json.loads(json_line("a", b"\xff\x00\x01", qos=0, retain=False, ts=TS))
    assert obj["encoding"] == "base64"
    assert base64.b64decode(obj["payload"]) == b"\xff\x00\x01"


def test_json_line_properties_only_when_there_are_some() -> None:
    bare = json.loads(json_line("a", b"x", qos=0, retain=False, ts=TS, properties={}))
    assert "properties" not in bare
    props = {
        "ContentType": "text/plain",
        "CorrelationData": b"\x01\x02",
        "UserProperty": [("k", "v")],
    }
    obj = json.loads(json_line("a", b"x", qos=0, retain=False, ts=TS, properties=props))
    assert obj["properties"] == {
        "ContentType": "text/plain",
        "CorrelationData": "0102",
        "UserProperty": [["k", "v"]],
    }


def test_json_line_safe_keeps_valid_json() -> None:
    payload = "\x1b[31m \u202e \u009b \x7f".encode()
    raw = json_line("a", payload, qos=0, retain=False, ts=TS, safe=True)
    assert b"\x1b" not in raw and "\u202e".encode() not in raw and b"\x7f" not in raw
    assert json.loads(raw)["payload"] == payload.decode()


# --- the output buffer ----------------------------------------------------------------


class _Trickle(io.RawIOBase):
    """A raw stream that takes at most 7 bytes per write, as a pipe may."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        chunk = bytes(b)[:7]  # type: ignore[call-overload]
        self.data += chunk
        self.writes += 1
        return len(chunk)


def test_output_buffer_writes_everything_through_partial_writes() -> None:
    stream = _Trickle()
    out = OutputBuffer(stream, limit=50)  # type: ignore[arg-type]
    for i in range(30):
        out.write(f"line {i}\n".encode())
    out.flush()
    assert bytes(stream.data) == b"".join(f"line {i}\n".encode() for i in range(30))


def test_output_buffer_holds_small_writes_until_flushed() -> None:
    stream = _Trickle()
    out = OutputBuffer(stream, limit=1000)  # type: ignore[arg-type]
    out.write(b"a\n")
    out.write(b"b\n")
    assert stream.writes == 0
    out.flush()
    assert bytes(stream.data) == b"a\nb\n"


class _InterruptedAfterWriting(io.RawIOBase):
    """Takes every byte, then a signal handler raises before the write returns (as
    SIGTERM does in ``mqchat sub`` when it lands right after a write)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        self.data += bytes(b)  # type: ignore[call-overload]
        raise SystemExit(143)


def test_output_buffer_never_writes_twice_what_an_interrupted_flush_wrote() -> None:
    stream = _InterruptedAfterWriting()
    out = OutputBuffer(stream, limit=1000)  # type: ignore[arg-type]
    out.write(b"one\ntwo\n")
    with pytest.raises(SystemExit):
        out.flush()
    out.flush()  # the flush on the way out
    assert bytes(stream.data) == b"one\ntwo\n"


# --- usage errors: exit 2 before any connection ---------------------------------------

NOWHERE = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens: a connection would exit 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["sub", "a/#/b"], "invalid topic filter"),
        (["sub", "ok", "a+"], "invalid topic filter"),
        (["sub", "t", "-V", "3.1"], "unknown MQTT version"),
        (["pub", "a/+", "x"], "invalid topic"),
        (["pub", "t"], "give one message"),
        (["pub", "t", "x", "-n"], "give one message"),
        (["pub", "t", "x", "-l"], "give one message"),
        (["clear-retained", "a/#/b"], "invalid topic filter"),
        (["sub", "t", "--broker", "http://x"], "unsupported scheme"),
        (["pub", "t", "x", "--broker", "mqtt://h:70000"], "out of range"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCHAT_BROKER", NOWHERE)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["sub", "t", "-q", "3"],
        ["sub", "t", "-C", "0"],
        ["sub", "t", "-C", "x"],
        ["sub", "t", "-W", "0"],
        ["sub", "t", "-W", "-1"],
        ["sub", "t", "-v", "--json"],
        ["sub", "t", "--retained-only", "--no-retained"],
        ["sub"],
        ["pub", "t", "-n", "-l"],
        ["pub", "t", "x", "-q", "5"],
        ["clear-retained", "a", "--settle", "0"],
    ],
)
def test_argument_errors_exit_2(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQCHAT_BROKER", NOWHERE)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
