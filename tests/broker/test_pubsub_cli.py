"""`mqchat sub`, `pub` and `clear-retained` next to mosquitto_sub and mosquitto_pub on
the same inputs, against a real mosquitto (issue 4, acceptance 4): what they print,
how many messages, the exit status, the retained flags. The deliberate differences
are tested as such (and listed in README.md):

* an empty payload without -v: mosquitto_sub prints nothing, mqchat an empty line;
* -W without -C: mosquitto_sub exits 27, mqchat 0 (the timeout was the plan);
* usage errors exit 2 (mosquitto: 1), a refused login 1 (mosquitto: the CONNACK code).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
Proc = subprocess.Popen[bytes]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MQCHAT_")}
    return clean | (extra or {})


def ours(*args: str) -> list[str]:
    return [sys.executable, "-m", "mqchat", *args]


def theirs(tool: str, broker: Mosquitto, *args: str) -> list[str]:
    return [tool, "-h", "127.0.0.1", "-p", str(broker.port), *args]


def run(
    argv: Sequence[str],
    *,
    input: bytes | None = None,
    timeout: float = 30,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        list(argv), input=input, capture_output=True, timeout=timeout, env=_env(env), cwd=ROOT
    )


def publish(broker: Mosquitto, topic: str, payload: bytes, *flags: str) -> None:
    """One message through mosquitto_pub (stdin as the payload, so any bytes do)."""
    source = ["-s"] if payload else ["-n"]  # -s refuses empty input
    done = run(theirs("mosquitto_pub", broker, "-t", topic, *source, *flags), input=payload)
    assert done.returncode == 0, done.stderr


def retained_now(broker: Mosquitto, topic_filter: str) -> list[str]:
    """What a new subscriber gets as retained: ``qos retain topic payload`` lines,
    sorted, read by mosquitto_sub (so never by the code under test). The broker sends
    them right after the SUBACK; a live marker published once the subscription is
    taken comes after them, and mosquitto_sub --retained-only leaves on it."""
    marker = f"retained-now/{uuid.uuid4().hex}"
    argv = theirs(
        "mosquitto_sub", broker, "-t", topic_filter, "-t", marker, "-q", "2",
        "--retained-only", "-F", "%q %r %t %p",
    )  # fmt: skip
    since = _log_size(broker)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            wait_subscribed(broker, since, [topic_filter, marker])
            publish(broker, marker, b"end", "-q", "2")
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    return sorted(out.decode().splitlines())


def _log_size(broker: Mosquitto) -> int:
    path = broker.folder / "mosquitto.log"
    return path.stat().st_size if path.exists() else 0


def wait_subscribed(
    broker: Mosquitto, since: int, filters: Sequence[str], timeout: float = 10
) -> None:
    """Until the broker's log (``log_type all``) shows every subscription in ``filters``
    taken, counted, after byte ``since`` of the log."""
    wanted = Counter(filters)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (broker.folder / "mosquitto.log").open("rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        seen = Counter(m.group(1) for m in re.finditer(r"^\d+: \S+ \d (.+)$", text, re.MULTILINE))
        if all(seen[f] >= n for f, n in wanted.items()):
            return
        time.sleep(0.02)  # polling a file the broker writes: nothing to await
    raise AssertionError(f"not subscribed to {dict(wanted)} within {timeout}s")


@contextlib.contextmanager
def subscribed(
    broker: Mosquitto, *commands: tuple[list[str], str], env: dict[str, str] | None = None
) -> Iterator[list[Proc]]:
    """Start each ``(argv, filter)`` and return once the broker has all subscriptions.
    Processes still running at the end are killed (by their own handle)."""
    since = _log_size(broker)
    procs = [
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env), cwd=ROOT
        )
        for argv, _ in commands
    ]
    try:
        wait_subscribed(broker, since, [f for _, f in commands])
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def finish(proc: Proc, timeout: float = 15) -> tuple[int, bytes, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err.decode(errors="replace")


# --- sub ------------------------------------------------------------------------------

MESSAGES = [
    ("a", b"hello"),
    ("a/b/c", b"23.5"),
    ("bin", b"\xff\xfe\x00\x1b[31mred"),
    ("with space/x", b"multi\nline"),
    ("json", b'{"t": 21.5, "u": "\xc2\xb0C"}'),
]


@pytest.mark.parametrize("verbose", [False, True], ids=["payload", "verbose"])
def test_sub_prints_what_mosquitto_sub_prints(
    broker: Mosquitto, namespace: str, verbose: bool
) -> None:
    publish(broker, f"{namespace}/kept", b"retained value", "-r")
    flags = ["-v"] if verbose else []
    count = str(len(MESSAGES) + 1)
    topic_filter = f"{namespace}/#"
    with subscribed(
        broker,
        (theirs("mosquitto_sub", broker, "-t", topic_filter, "-C", count, *flags), topic_filter),
        (ours("sub", topic_filter, "--broker", broker.url, "-C", count, *flags), topic_filter),
    ) as (mosq, mine):
        for topic, payload in MESSAGES:
            publish(broker, f"{namespace}/{topic}", payload)
        rc_mosq, out_mosq, _ = finish(mosq)
        rc_mine, out_mine, err = finish(mine)
    assert (rc_mine, rc_mosq) == (0, 0), err
    assert out_mine == out_mosq
    first = f"{namespace}/kept retained value\n" if verbose else "retained value\n"
    assert out_mine.startswith(first.encode())
    assert b"\xff\xfe\x00\x1b[31mred" in out_mine  # raw bytes to a pipe, as mosquitto_sub


def test_empty_payloads(broker: Mosquitto, namespace: str) -> None:
    """-v prints ``topic (null)`` like mosquitto_sub; without -v mqchat prints an empty
    line where mosquitto_sub prints nothing, so each message is one line."""
    topic = f"{namespace}/e"
    outputs: dict[str, bytes] = {}
    for flags in ([], ["-v"]):
        with subscribed(
            broker,
            (theirs("mosquitto_sub", broker, "-t", topic, "-C", "3", *flags), topic),
            (ours("sub", topic, "--broker", broker.url, "-C", "3", *flags), topic),
        ) as (mosq, mine):
            for payload in (b"one", b"", b"three"):
                publish(broker, topic, payload)
            outputs["mosq" + "".join(flags)] = finish(mosq)[1]
            outputs["mine" + "".join(flags)] = finish(mine)[1]
    assert (
        outputs["mosq-v"]
        == outputs["mine-v"]
        == (f"{topic} one\n{topic} (null)\n{topic} three\n".encode())
    )
    assert outputs["mosq"] == b"one\nthree\n"
    assert outputs["mine"] == b"one\n\nthree\n"


def test_count_stops_both_at_the_same_message(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/n"
    with subscribed(
        broker,
        (theirs("mosquitto_sub", broker, "-t", topic, "-C", "4"), topic),
        (ours("sub", topic, "--broker", broker.url, "-C", "4"), topic),
    ) as (mosq, mine):
        lines = b"".join(f"m{i}\n".encode() for i in range(10))
        assert run(theirs("mosquitto_pub", broker, "-t", topic, "-l"), input=lines).returncode == 0
        results = [finish(mosq), finish(mine)]
    assert [r[0] for r in results] == [0, 0]
    assert results[0][1] == results[1][1] == b"m0\nm1\nm2\nm3\n"


def test_timeout_exit_status(broker: Mosquitto, namespace: str) -> None:
    """-W with -C not reached: both exit 27. -W alone: mosquitto_sub 27, mqchat 0,
    because there the timeout is how the run was meant to end."""
    topic = f"{namespace}/quiet"
    started = time.monotonic()
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        for argv in (
            theirs("mosquitto_sub", broker, "-t", topic, "-W", "1", "-C", "2"),
            ours("sub", topic, "--broker", broker.url, "-W", "1", "-C", "2"),
            theirs("mosquitto_sub", broker, "-t", topic, "-W", "1"),
            ours("sub", topic, "--broker", broker.url, "-W", "1"),
        )
    ]
    results = [finish(p) for p in procs]
    assert time.monotonic() - started < 8
    assert [r[0] for r in results] == [27, 27, 27, 0]
    assert all(r[1] == b"" for r in results)
    assert "timed out after 1 s with 0 of 2 messages" in results[1][2]
    assert results[3][2] == ""


def test_timeout_with_count_reached_is_success(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/kept"
    publish(broker, topic, b"v", "-r")
    mosq = run(theirs("mosquitto_sub", broker, "-t", topic, "-W", "5", "-C", "1"))
    mine = run(ours("sub", topic, "--broker", broker.url, "-W", "5", "-C", "1"))
    assert (mosq.returncode, mosq.stdout) == (mine.returncode, mine.stdout) == (0, b"v\n")


def test_retained_only_stops_at_the_first_live_message(broker: Mosquitto, namespace: str) -> None:
    for name in ("r1", "r2/x"):
        publish(broker, f"{namespace}/{name}", name.encode(), "-r")
    topic_filter = f"{namespace}/#"
    with subscribed(
        broker,
        (
            theirs("mosquitto_sub", broker, "-t", topic_filter, "--retained-only", "-v"),
            topic_filter,
        ),
        (ours("sub", topic_filter, "--broker", broker.url, "--retained-only", "-v"), topic_filter),
    ) as (mosq, mine):
        publish(broker, f"{namespace}/live", b"live")
        results = [finish(mosq), finish(mine)]
    assert [r[0] for r in results] == [0, 0]
    want = sorted([f"{namespace}/r1 r1", f"{namespace}/r2/x r2/x"])
    assert [sorted(r[1].decode().splitlines()) for r in results] == [want, want]


def test_no_retained_skips_stale_messages(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/s"
    publish(broker, topic, b"stale", "-r")
    with subscribed(
        broker,
        (theirs("mosquitto_sub", broker, "-t", topic, "-R", "-C", "1"), topic),
        (ours("sub", topic, "--broker", broker.url, "--no-retained", "-C", "1"), topic),
    ) as (mosq, mine):
        publish(broker, topic, b"fresh")
        results = [finish(mosq), finish(mine)]
    assert results[0][:2] == results[1][:2] == (0, b"fresh\n")


def test_qos_and_retain_flags_as_mosquitto_sub_sees_them(broker: Mosquitto, namespace: str) -> None:
    """A QoS 1 subscription: each message arrives at min(its QoS, 1); the retained
    copy carries the retain flag, live messages do not."""
    topic_filter = f"{namespace}/#"
    publish(broker, f"{namespace}/kept", b"k", "-r", "-q", "2")
    fmt = ["-F", "%q %r %t %p"]
    with subscribed(
        broker,
        (
            theirs("mosquitto_sub", broker, "-t", topic_filter, "-q", "1", "-C", "4", *fmt),
            topic_filter,
        ),
        (
            ours("sub", topic_filter, "--broker", broker.url, "-q", "1", "-C", "4", "--json"),
            topic_filter,
        ),
    ) as (mosq, mine):
        for qos in (0, 1, 2):
            publish(broker, f"{namespace}/q{qos}", f"p{qos}".encode(), "-q", str(qos))
        (rc_mosq, out_mosq, _), (rc_mine, out_mine, err) = finish(mosq), finish(mine)
    assert (rc_mosq, rc_mine) == (0, 0), err
    rows = [json.loads(line) for line in out_mine.splitlines()]
    as_mosquitto = [f"{r['qos']} {int(r['retain'])} {r['topic']} {r['payload']}" for r in rows]
    assert as_mosquitto == out_mosq.decode().splitlines()
    assert as_mosquitto[0] == f"1 1 {namespace}/kept k"
    assert [r["qos"] for r in rows[1:]] == [0, 1, 1]


def test_json_lines(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/j"
    with subscribed(
        broker, (ours("sub", topic, "--broker", broker.url, "-C", "3", "--json"), topic)
    ) as (mine,):
        publish(broker, topic, "grüße".encode())
        publish(broker, topic, b"\xff\x00")
        publish(
            broker, topic, b"{}", "-V", "mqttv5",
            "-D", "publish", "content-type", "application/json",
            "-D", "publish", "user-property", "k", "v",
        )  # fmt: skip
        rc, out, err = finish(mine)
    assert rc == 0, err
    text, binary, props = (json.loads(line) for line in out.splitlines())
    assert text["payload"] == "grüße" and "encoding" not in text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text["ts"])
    assert (binary["payload"], binary["encoding"]) == ("/wA=", "base64")
    assert props["properties"]["ContentType"] == "application/json"
    assert props["properties"]["UserProperty"] == [["k", "v"]]
    assert "properties" not in text


def test_mqtt_311_has_no_properties(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/p"
    publish(broker, topic, b"{}", "-r", "-V", "mqttv5", "-D", "publish", "content-type", "x/y")
    out = run(ours("sub", topic, "--broker", broker.url, "-C", "1", "--json", "-V", "3.1.1"))
    assert out.returncode == 0, out.stderr
    assert "properties" not in json.loads(out.stdout)


def test_a_flood_arrives_complete_and_in_order(broker: Mosquitto, namespace: str) -> None:
    """Read-ahead and the fast decoder across packet and buffer boundaries: small
    messages, then one far larger than the read-ahead buffer, then small ones."""
    topic = f"{namespace}/flood"
    small = [f"{i:05d} ".ljust(90, "x").encode() for i in range(5000)]
    big = b"B" * 700_000
    with subscribed(
        broker, (ours("sub", topic, "--broker", broker.url, "-C", str(len(small) * 2 + 1)), topic)
    ) as (mine,):
        # QoS 1: each publisher returns once the broker has it all, so the three
        # batches (three connections) reach the subscriber in this order.
        pub = theirs("mosquitto_pub", broker, "-t", topic, "-l", "-q", "1")
        assert run(pub, input=b"\n".join(small) + b"\n").returncode == 0
        publish(broker, topic, big, "-q", "1")
        assert run(pub, input=b"\n".join(small) + b"\n").returncode == 0
        rc, out, err = finish(mine, timeout=60)
    assert rc == 0, err
    assert out == b"\n".join([*small, big, *small]) + b"\n"


def test_sub_comes_back_after_a_broker_restart(own_broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/r"
    with subscribed(
        own_broker, (ours("sub", topic, "--broker", own_broker.url, "-C", "1", "-v"), topic)
    ) as (mine,):
        own_broker.stop()
        since = _log_size(own_broker)
        own_broker.start()  # the same port and folder
        wait_subscribed(own_broker, since, [topic], timeout=20)
        publish(own_broker, topic, b"after")
        rc, out, err = finish(mine)
    assert (rc, out) == (0, f"{topic} after\n".encode()), err
    assert "reconnecting" in err and "connected again" in err


def test_sigterm_writes_what_arrived_and_disconnects(broker: Mosquitto, namespace: str) -> None:
    topic = f"{namespace}/t"
    with subscribed(broker, (ours("sub", topic, "--broker", broker.url), topic)) as (mine,):
        publish(broker, topic, b"one")
        publish(broker, topic, b"two")
        assert mine.stdout is not None
        arrived = mine.stdout.readline() + mine.stdout.readline()  # printed once idle
        mine.send_signal(signal.SIGTERM)
        rc, out, err = finish(mine)
    assert (rc, arrived + out) == (128 + signal.SIGTERM, b"one\ntwo\n"), err
    assert "Traceback" not in err


def test_a_closed_pipe_ends_sub_quietly(broker: Mosquitto, namespace: str) -> None:
    """The reader goes away (``| head -1``): the next write ends mqchat with the status
    a SIGPIPE gives mosquitto_sub, and no traceback."""
    topic = f"{namespace}/pipe"
    with subscribed(broker, (ours("sub", topic, "--broker", broker.url), topic)) as (mine,):
        publish(broker, topic, b"first")
        assert mine.stdout is not None
        assert mine.stdout.readline() == b"first\n"
        mine.stdout.close()
        publish(broker, topic, b"second")
        assert mine.wait(timeout=15) == 141
        assert mine.stderr is not None
        assert mine.stderr.read() == b""


def test_a_terminal_gets_escapes_not_control_sequences(broker: Mosquitto, namespace: str) -> None:
    import pty

    topic = f"{namespace}/tty"
    publish(broker, topic, b"\x1b]0;pwned\x07\x1b[31mred", "-r")
    shown = {}
    for flags in ([], ["--raw"]):
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run(
                ours("sub", topic, "--broker", broker.url, "-C", "1", *flags),
                stdout=follower, stderr=subprocess.PIPE, timeout=30, cwd=ROOT, env=_env(),
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            shown[bool(flags)] = os.read(leader, 4096)
        finally:
            os.close(leader)
            os.close(follower)
    assert shown[False].rstrip() == b"\\x1b]0;pwned\\x07\\x1b[31mred"
    assert shown[True].rstrip() == b"\x1b]0;pwned\x07\x1b[31mred"


# --- pub ------------------------------------------------------------------------------


def test_pub_like_mosquitto_pub(broker: Mosquitto, namespace: str) -> None:
    """Each QoS, retained or not: the live subscriber and a late one see the same from
    both publishers."""
    topic_filter = f"{namespace}/#"
    cases = [(qos, retain) for qos in (0, 1, 2) for retain in (False, True)]
    fmt = ["-F", "%q %r %t %p"]
    with subscribed(
        broker,
        (
            theirs(
                "mosquitto_sub",
                broker,
                "-t",
                topic_filter,
                "-q",
                "2",
                "-C",
                str(2 * len(cases)),
                *fmt,
            ),
            topic_filter,
        ),
    ) as (live,):
        for qos, retain in cases:
            name = f"q{qos}{'r' if retain else ''}"
            flags = ["-q", str(qos), *(["-r"] if retain else [])]
            mosq = run(
                theirs(
                    "mosquitto_pub", broker, "-t", f"{namespace}/mosq/{name}", "-m", name, *flags
                )
            )
            mine = run(
                ours("pub", f"{namespace}/mine/{name}", name, "--broker", broker.url, *flags)
            )
            assert (mosq.returncode, mine.returncode) == (0, 0), mine.stderr
            assert mine.stdout == mine.stderr == b""
        rc, out, err = finish(live)
    assert rc == 0, err
    seen = out.decode().splitlines()
    by_publisher = {
        who: [line.replace(f"/{who}/", "/") for line in seen if f"/{who}/" in line]
        for who in ("mosq", "mine")
    }
    assert by_publisher["mosq"] == by_publisher["mine"]
    assert len(by_publisher["mine"]) == len(cases)
    assert all(line.split()[1] == "0" for line in seen)  # live copies: retain flag off
    late = retained_now(broker, topic_filter)
    kept = {
        who: [x.replace(f"/{who}/", "/") for x in late if f"/{who}/" in x]
        for who in ("mosq", "mine")
    }
    assert (
        kept["mosq"]
        == kept["mine"]
        == [f"{qos} 1 {namespace}/q{qos}r q{qos}r" for qos in (0, 1, 2)]
    )


def test_pub_null_clears_a_retained_message(broker: Mosquitto, namespace: str) -> None:
    for who in ("mosq", "mine", "empty"):
        publish(broker, f"{namespace}/{who}", b"old", "-r")
    assert (
        run(theirs("mosquitto_pub", broker, "-t", f"{namespace}/mosq", "-r", "-n")).returncode == 0
    )
    assert run(ours("pub", f"{namespace}/mine", "-r", "-n", "--broker", broker.url)).returncode == 0
    assert run(ours("pub", f"{namespace}/empty", "", "-r", "--broker", broker.url)).returncode == 0
    assert retained_now(broker, f"{namespace}/#") == []


def test_stdin_lines_like_mosquitto_pub_l(broker: Mosquitto, namespace: str) -> None:
    """Same input, same messages: an empty line is an empty message, a \\r stays, the
    last line counts without its newline."""
    data = b"a\n\nb\r\n" + b"".join(f"line {i}\n".encode() for i in range(500)) + b"last"
    expected = 504
    topic_filter = f"{namespace}/#"
    with subscribed(
        broker,
        (
            theirs(
                "mosquitto_sub",
                broker,
                "-t",
                topic_filter,
                "-q",
                "1",
                "-C",
                str(2 * expected),
                "-v",
            ),
            topic_filter,
        ),
    ) as (live,):
        mosq = run(
            theirs("mosquitto_pub", broker, "-t", f"{namespace}/mosq", "-l", "-q", "1"), input=data
        )
        mine = run(
            ours("pub", f"{namespace}/mine", "--stdin-line", "-q", "1", "--broker", broker.url),
            input=data,
        )
        assert (mosq.returncode, mine.returncode) == (0, 0), mine.stderr
        rc, out, err = finish(live)
    assert rc == 0, err
    lines = out.split(b"\n")[:-1]  # not splitlines(): a \r is part of a payload
    mosq_lines = [x.split(b" ", 1)[1] for x in lines if x.startswith(f"{namespace}/mosq ".encode())]
    mine_lines = [x.split(b" ", 1)[1] for x in lines if x.startswith(f"{namespace}/mine ".encode())]
    assert mosq_lines == mine_lines
    assert len(mine_lines) == expected
    assert mine_lines[:3] == [b"a", b"(null)", b"b\r"] and mine_lines[-1] == b"last"


def test_stdin_lines_go_out_as_they_come(broker: Mosquitto, namespace: str) -> None:
    """A slow stream (tail -f) is published line by line, not at its end."""
    topic = f"{namespace}/slow"
    with subscribed(broker, (theirs("mosquitto_sub", broker, "-t", topic, "-C", "1"), topic)) as (
        live,
    ):
        pub = subprocess.Popen(
            ours("pub", topic, "-l", "--broker", broker.url),
            stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env(),
        )  # fmt: skip
        try:
            assert pub.stdin is not None
            pub.stdin.write(b"first\n")
            pub.stdin.flush()
            assert finish(live)[:2] == (0, b"first\n")  # while stdin is still open
            pub.stdin.close()
            assert pub.wait(timeout=15) == 0
        finally:
            if pub.poll() is None:
                pub.kill()
                pub.wait()
            assert pub.stderr is not None
            pub.stderr.close()


def test_pub_whole_stdin_is_one_binary_message(broker: Mosquitto, namespace: str) -> None:
    payload = bytes(range(256)) * 40 + b"\n\n"
    assert (
        run(
            ours("pub", f"{namespace}/mine", "-s", "-r", "--broker", broker.url), input=payload
        ).returncode
        == 0
    )
    publish(broker, f"{namespace}/mosq", payload, "-r")
    got = run(theirs("mosquitto_sub", broker, "-t", f"{namespace}/+", "-C", "2", "-N"))
    assert got.stdout == payload * 2


# --- clear-retained -------------------------------------------------------------------

TREE = ["home", "home/a", "home/a/b", "home/c", "homeX/a", "other/x"]


def _plant(broker: Mosquitto, prefix: str) -> None:
    for topic in TREE:
        publish(broker, f"{prefix}/{topic}", topic.encode(), "-r")


def test_clear_retained_like_mosquitto_sub_remove_retained(
    broker: Mosquitto, namespace: str
) -> None:
    _plant(broker, f"{namespace}/mosq")
    _plant(broker, f"{namespace}/mine")
    mosq = run(
        theirs(
            "mosquitto_sub", broker, "-t", f"{namespace}/mosq/home/#",
            "--remove-retained", "--retained-only", "-v", "-W", "1",
        )
    )  # fmt: skip
    mine = run(ours("clear-retained", f"{namespace}/mine/home/#", "--broker", broker.url))
    assert mosq.returncode == 27 and mine.returncode == 0, mine.stderr
    listed_mosq = sorted(line.split()[0] for line in mosq.stdout.decode().splitlines())
    listed_mine = sorted(mine.stdout.decode().splitlines())
    assert [t.replace("/mosq/", "/") for t in listed_mosq] == [
        t.replace("/mine/", "/") for t in listed_mine
    ]
    assert listed_mine == sorted(
        f"{namespace}/mine/{t}" for t in ("home", "home/a", "home/a/b", "home/c")
    )
    assert "cleared 4 retained messages" in mine.stderr.decode()
    left = retained_now(broker, f"{namespace}/#")
    assert left == sorted(
        f"0 1 {namespace}/{who}/{t} {t}" for who in ("mosq", "mine") for t in ("homeX/a", "other/x")
    )


def test_clear_retained_dry_run_changes_nothing(broker: Mosquitto, namespace: str) -> None:
    _plant(broker, namespace)
    before = retained_now(broker, f"{namespace}/#")
    mine = run(ours("clear-retained", f"{namespace}/#", "--dry-run", "--broker", broker.url))
    assert mine.returncode == 0
    assert sorted(mine.stdout.decode().splitlines()) == sorted(f"{namespace}/{t}" for t in TREE)
    assert "6 retained messages" in mine.stderr.decode() and "dry run" in mine.stderr.decode()
    assert retained_now(broker, f"{namespace}/#") == before


def test_clear_retained_one_topic_and_an_empty_subtree(broker: Mosquitto, namespace: str) -> None:
    _plant(broker, namespace)
    one = run(ours("clear-retained", f"{namespace}/home/a", "--broker", broker.url))
    assert (one.returncode, one.stdout.decode()) == (0, f"{namespace}/home/a\n")
    none = run(ours("clear-retained", f"{namespace}/nothing/#", "--broker", broker.url))
    assert (none.returncode, none.stdout) == (0, b"")
    assert "cleared 0 retained messages" in none.stderr.decode()
    assert len(retained_now(broker, f"{namespace}/#")) == len(TREE) - 1


def test_clear_retained_never_touches_live_traffic(broker: Mosquitto, namespace: str) -> None:
    """A topic with only live messages gets no empty retained publish, even while its
    messages flow during the collection."""
    publish(broker, f"{namespace}/kept", b"k", "-r")
    topic_filter = f"{namespace}/#"
    with subscribed(
        broker,
        (theirs("mosquitto_sub", broker, "-t", topic_filter, "-F", "%r %t %l"), topic_filter),
    ) as (monitor,):
        clear = subprocess.Popen(
            ours("clear-retained", topic_filter, "--broker", broker.url, "--settle", "1"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env(),
        )  # fmt: skip
        for i in range(8):
            publish(broker, f"{namespace}/live", f"tick {i}".encode())
            time.sleep(0.1)
        rc, out, err = finish(clear)
        # published after the clear's last PUBACK: the monitor has seen all before it
        publish(broker, f"{namespace}/end", b"end")
        assert monitor.stdout is not None
        seen = []
        for line in monitor.stdout:
            if line == f"0 {namespace}/end 3\n".encode():
                break
            seen.append(line.decode().rstrip("\n"))
        monitor.kill()
    assert rc == 0, err
    assert out.decode().splitlines() == [f"{namespace}/kept"]
    empties = [line for line in seen if line.endswith(" 0")]  # %l: payload length
    assert empties == [f"0 {namespace}/kept 0"]
    assert retained_now(broker, topic_filter) == []


# --- connections and failures ---------------------------------------------------------


def test_unreachable_broker_fails_like_mosquitto() -> None:
    port = str(free_port())
    url = f"mqtt://127.0.0.1:{port}"
    for argv in (ours("sub", "t", "--broker", url), ours("pub", "t", "x", "--broker", url),
                 ours("clear-retained", "t", "--broker", url)):  # fmt: skip
        done = run(argv)
        assert done.returncode == 1
        assert (
            done.stderr.decode().strip()
            == f"mqchat: connection refused by 127.0.0.1:{port} (is the broker running?)"
        )
    for tool, extra in (("mosquitto_sub", ["-t", "t"]), ("mosquitto_pub", ["-t", "t", "-m", "x"])):
        assert run([tool, "-h", "127.0.0.1", "-p", port, *extra]).returncode == 1


def test_usage_errors_exit_2_where_mosquitto_exits_1(broker: Mosquitto) -> None:
    cases = [
        (
            ours("sub", "a/#/b", "--broker", broker.url),
            theirs("mosquitto_sub", broker, "-t", "a/#/b"),
        ),
        (
            ours("sub", "t", "-q", "3", "--broker", broker.url),
            theirs("mosquitto_sub", broker, "-t", "t", "-q", "3"),
        ),
        (
            ours("pub", "a/+", "x", "--broker", broker.url),
            theirs("mosquitto_pub", broker, "-t", "a/+", "-m", "x"),
        ),
        (ours("pub", "t", "--broker", broker.url), theirs("mosquitto_pub", broker, "-t", "t")),
    ]
    for mine, mosq in cases:
        assert run(mine).returncode == 2
        assert run(mosq).returncode == 1


def test_logins(tmp_path: Path, namespace: str) -> None:
    server = Mosquitto(tmp_path / "auth", users={"alice": "right-horse"}).start()
    try:
        host = f"127.0.0.1:{server.port}"
        topic = f"{namespace}/x"
        refused = f"mqchat: {host} refused the login"
        anonymous = run(ours("pub", topic, "v", "-r", "--broker", f"mqtt://{host}"))
        assert anonymous.returncode == 1 and anonymous.stderr.decode().startswith(refused)
        # A password in a URL comes from the environment (on the command line every
        # user could read it in `ps`: refused, tests/unit/test_cli_hardening.py).
        wrong = run(
            ours("sub", topic, "-C", "1"), env={"MQCHAT_BROKER": f"mqtt://alice:nope@{host}"}
        )
        assert wrong.returncode == 1 and wrong.stderr.decode().startswith(refused)
        mosq = run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(server.port), "-t", topic,
                    "-u", "alice", "-P", "nope"])  # fmt: skip
        assert mosq.returncode == 5  # the CONNACK code; mqchat says 1, with the reason
        in_url = run(
            ours("pub", topic, "v", "-r"), env={"MQCHAT_BROKER": f"mqtt://alice:right-horse@{host}"}
        )
        assert in_url.returncode == 0, in_url.stderr
        from_env = run(
            ours("sub", topic, "-C", "1", "--broker", f"mqtt://{host}", "--user", "alice"),
            env={"MQCHAT_PASSWORD": "right-horse"},
        )
        assert (from_env.returncode, from_env.stdout) == (0, b"v\n"), from_env.stderr
        cleared = run(
            ours("clear-retained", topic, "--broker", f"mqtt://{host}"),
            env={"MQCHAT_USER": "alice", "MQCHAT_PASSWORD": "right-horse"},
        )
        assert cleared.returncode == 0, cleared.stderr
    finally:
        server.stop()


@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_each_mqtt_version(broker: Mosquitto, namespace: str, version: str) -> None:
    topic = f"{namespace}/v"
    pub = run(
        ours("pub", topic, f"v{version}", "-r", "-q", "1", "-V", version, "--broker", broker.url)
    )
    assert pub.returncode == 0, pub.stderr
    sub = run(ours("sub", topic, "-C", "1", "-V", version, "--broker", broker.url))
    assert sub.stdout == f"v{version}\n".encode()
    clear = run(ours("clear-retained", topic, "-V", version, "--broker", broker.url))
    assert clear.returncode == 0 and clear.stdout == f"{topic}\n".encode()


async def test_falls_back_to_311_when_the_broker_refuses_5(
    broker: Mosquitto, namespace: str
) -> None:
    import asyncio

    from tests.support.v311_proxy import V311OnlyProxy

    async def run_async(*args: str) -> tuple[int, bytes, bytes]:
        proc = await asyncio.create_subprocess_exec(
            *ours(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=ROOT, env=_env(),
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode is not None
        return proc.returncode, out, err

    topic = f"{namespace}/old"
    async with V311OnlyProxy(broker.port) as proxy:
        assert (await run_async("pub", topic, "hi", "-r", "--broker", proxy.url))[0] == 0
        rc, out, err = await run_async("sub", topic, "-C", "1", "--broker", proxy.url)
        assert (rc, out) == (0, b"hi\n"), err
        rc, out, err = await run_async("sub", topic, "-C", "1", "-V", "5", "--broker", proxy.url)
        assert rc == 1 and b"does not speak this MQTT protocol version" in err
        assert proxy.refused_v5 == 3


def test_refusals_under_an_acl(tmp_path: Path, namespace: str) -> None:
    """MQTT 5 tells a refused publish (PUBACK 0x87): mqchat exits 1 where mosquitto_pub
    only warns and exits 0. QoS 0 and MQTT 3.1.1 cannot tell; both then say 0."""
    acl = tmp_path / "acl"
    acl.write_text(
        f"user alice\ntopic read {namespace}/#\ntopic readwrite {namespace}/open/#\n\n"
        "user admin\ntopic readwrite #\n"
    )
    server = Mosquitto(
        tmp_path / "broker", users={"alice": "pw", "admin": "pw"}, extra_config=f"acl_file {acl}\n"
    ).start()
    try:
        url = f"mqtt://127.0.0.1:{server.port}"
        alice = {"MQCHAT_USER": "alice", "MQCHAT_PASSWORD": "pw"}
        locked = f"{namespace}/locked/x"
        denied = run(ours("pub", locked, "v", "-q", "1", "--broker", url), env=alice)
        assert denied.returncode == 1
        assert "refused 1 of 1 messages" in denied.stderr.decode()
        assert "Not authorized" in denied.stderr.decode()
        mosq = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(server.port), "-u", "alice",
                    "-P", "pw", "-V", "mqttv5", "-q", "1", "-t", locked, "-m", "v"])  # fmt: skip
        assert mosq.returncode == 0 and b"Not authorized" in mosq.stderr
        # With more publishes unread, this mosquitto resets the connection and the
        # PUBACK may be lost with it: mqchat then says so (mosquitto_pub reconnects).
        lines = run(
            ours("pub", locked, "-l", "-q", "1", "--broker", url), input=b"a\nb\nc\n", env=alice
        )
        assert lines.returncode == 1
        said = lines.stderr.decode()
        assert "Not authorized" in said or "the broker has 0 of 3 messages" in said
        for blind in (["-q", "0"], ["-q", "1", "-V", "3.1.1"]):
            assert run(ours("pub", locked, "v", *blind, "--broker", url), env=alice).returncode == 0

        admin = {"MQCHAT_USER": "admin", "MQCHAT_PASSWORD": "pw"}
        # A refusal between two clears: this mosquitto then drops the connection
        # (max_queued_messages 0), the clear after it unread; mqchat carries on.
        planted = [f"{namespace}/open/a", locked, f"{namespace}/open/b"]
        for topic in planted:
            assert run(ours("pub", topic, "kept", "-r", "--broker", url), env=admin).returncode == 0
        clear = run(ours("clear-retained", f"{namespace}/#", "--broker", url), env=alice)
        assert clear.returncode == 1
        assert sorted(clear.stdout.decode().splitlines()) == sorted(planted)
        err = clear.stderr.decode()
        assert "cleared 2 retained messages " in err and f"refused to clear {locked!r}" in err
        left = run(
            ours("sub", f"{namespace}/#", "--retained-only", "-W", "1", "-v", "--broker", url),
            env=admin,
        )
        assert left.stdout == f"{locked} kept\n".encode()
    finally:
        server.stop()
