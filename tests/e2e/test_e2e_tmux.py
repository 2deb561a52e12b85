"""Two real ``mqchat chat`` processes in tmux, driven as two people would: type,
read the other screen, kill one with SIGKILL, quit the other with ctrl+q."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.tmux import ROOT, Terminal, terminals

pytestmark = pytest.mark.broker

__all__ = ["terminals"]  # the fixture, from tests/support/tmux.py


def history(user: str, peer: str, broker: Mosquitto, data: Path) -> list[dict[str, str]]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mqchat",
            "history",
            peer,
            "--user",
            user,
            "--broker",
            broker.url,
            "--data-dir",
            str(data),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=30,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_two_terminals_chat(
    own_broker: Mosquitto,
    tmp_path: Path,
    terminals: Callable[[str, list[str]], Terminal],
) -> None:
    common = ["--broker", own_broker.url, "--data-dir", str(tmp_path)]
    # Anyone who can subscribe to everything on the broker (end-to-end encryption)
    wire = tmp_path / "wire.txt"
    with wire.open("wb") as out:
        spy = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(own_broker.port), "-v", "-t", "#"],
            stdout=out,
        )
    bob = terminals("bob", ["chat", "alice", "--user", "bob", "--name", "Bob", *common])
    alice = terminals("alice", ["chat", "bob", "--user", "alice", "--name", "Alice", *common])
    # a person types once the composer shows ("connected" shows on the way there)
    alice.wait_text("Message bob — enter sends")
    bob.wait_text("Message alice — enter sends")
    for term in (alice, bob):
        term.wait_text("connected")
    bob.wait_for(lambda s: "online" in s, "alice online in bob's header")

    alice.type("hello bob, from alice")
    alice.press("Enter")
    bob.wait_text("hello bob, from alice", timeout=10)
    bob.type("hi alice!")
    bob.press("Enter")
    alice.wait_text("hi alice!", timeout=10)

    # alice dies without a goodbye: the broker's Will tells bob
    os.kill(alice.pid(), signal.SIGKILL)
    bob.wait_for(lambda s: "offline" in s or "last seen" in s, "alice offline", timeout=10)

    bob.press("C-q")
    deadline = time.monotonic() + 10
    while bob.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not bob.alive(), "ctrl+q did not quit"

    want = [("alice", "hello bob, from alice"), ("bob", "hi alice!")]
    for user, peer in (("alice", "bob"), ("bob", "alice")):
        rows = history(user, peer, own_broker, tmp_path)
        assert [(r["from"], r["body"]) for r in rows] == want
        assert all(r.get("sealed") for r in rows)
    spy.terminate()
    spy.wait(timeout=10)
    chat = [  # "topic payload" lines; "(null)": a cleared friend request, no payload
        payload
        for topic, _, payload in (line.partition(b" ") for line in wire.read_bytes().splitlines())
        if payload != b"(null)" and (b"/inbox/" in topic or b"/requests/" in topic)
    ]
    assert len(chat) >= 4  # the two texts and their receipts, at least
    assert [p for p in chat if json.loads(p)["type"] != "sealed"] == []
    for word in (b"hello bob", b"hi alice", b"Alice", b"Bob"):
        assert not any(word in payload for payload in chat), word
    # bob's ctrl+q said goodbye itself: a plain offline, not the Will's "lost"
    retained = subprocess.run(
        [
            "mosquitto_sub",
            "-p",
            str(own_broker.port),
            "-h",
            "127.0.0.1",
            "-C",
            "1",
            "-W",
            "5",
            "-t",
            "mqchat/u/bob/presence",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    presence = json.loads(retained.stdout)
    assert presence["state"] == "offline" and "lost" not in presence


def mosquitto_pub(broker: Mosquitto, topic: str, payload: bytes) -> None:
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", topic, "-s"],
        input=payload,
        check=True,
        timeout=10,
    )


def test_friend_request_accept_read_and_hostile_traffic_in_two_terminals(
    own_broker: Mosquitto,
    tmp_path: Path,
    terminals: Callable[[str, list[str]], Terminal],
) -> None:
    common = ["--broker", own_broker.url, "--data-dir", str(tmp_path)]
    alice = terminals("alice", ["chat", "--user", "alice", "--name", "Alice", *common])
    bob = terminals("bob", ["chat", "--user", "bob", "--name", "Bob", *common])
    for term in (alice, bob):
        term.wait_text("No friends yet")

    # alice asks bob; bob sees the request and accepts it with y
    alice.press("a")
    alice.wait_text("Their user name")
    alice.type("bob")
    alice.press("Enter")
    alice.wait_text("request pending")
    bob.wait_text("wants to be your friend")
    bob.press("y")
    alice.wait_text("bob accepted your friend request")
    alice.wait_for(lambda s: "request pending" not in s, "bob no longer pending")
    bob.wait_for(lambda s: "wants to be your friend" not in s, "alice now a friend")

    # alice writes; once bob opens the conversation her message is read
    alice.press("Enter")
    alice.wait_text("Message bob")
    alice.type("are you there?")
    alice.press("Enter")
    bob.wait_text("1 new")
    bob.press("Enter")
    bob.wait_text("are you there?")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = history("alice", "bob", own_broker, tmp_path)
        if rows and rows[0]["state"] == "read":
            break
        time.sleep(0.2)
    assert [(r["body"], r["state"]) for r in rows] == [("are you there?", "read")]
    alice.wait_text("✓✓")

    # a stranger's hostile traffic while bob reads alice's conversation
    inbox = "mqchat/u/bob/inbox/"
    markup = json.dumps(
        {
            "v": 1,
            "id": str(uuid.uuid4()),
            "type": "text",
            "from": "mallory",
            "to": "bob",
            "ts": "2026-11-22T05:00:00.000Z",
            "body": "[bold red]not red[/] \x1b[2J\x1b]0;pwned\x07 \u202eevil",
        }
    ).encode()
    mosquitto_pub(own_broker, inbox + "mallory", markup)
    mosquitto_pub(own_broker, inbox + "mallory", b"\xff\xfe not json")
    spoof = json.loads(markup) | {"id": str(uuid.uuid4()), "body": "I am alice"}
    mosquitto_pub(own_broker, inbox + "mallory", json.dumps(spoof | {"from": "alice"}).encode())
    bob.wait_text("2 rejected")
    # mallory's message elsewhere is a toast (control characters gone, text literal)...
    toast = bob.wait_text("Message from mallory")
    assert "\x1b" not in toast and "[bold red]not red[/]" in toast
    # ...which goes, and mallory's words stay out of alice's conversation
    screen = bob.wait_for(lambda s: "Message from mallory" not in s, "the toast gone", 15)
    assert "are you there?" in screen, screen
    assert "I am alice" not in screen, screen
    assert "pwned" not in screen, screen
    bob.press("Escape")
    screen = bob.wait_text("[bold red]not red[/]")  # shown literally, not as red text
    assert "mallory" in screen and "wants to be your friend" in screen
    assert "\x1b" not in bob.screen() and "mqchat · bob@" in screen  # the screen is intact


def test_a_pasted_text_of_three_lines_arrives_as_one_message(
    own_broker: Mosquitto,
    tmp_path: Path,
    terminals: Callable[..., Terminal],
) -> None:
    """The paste is bracketed (tmux ``paste-buffer -p``) with CR line breaks, as from a
    real terminal; ctrl+j starts a new line; ctrl+e hands the draft to $EDITOR and
    the TUI comes back with what it saved."""
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "and from the editor\\n" >> "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    common = ["--broker", own_broker.url, "--data-dir", str(tmp_path)]
    bob = terminals("bob", ["chat", "alice", "--user", "bob", "--name", "Bob", *common])
    alice = terminals(
        "alice", ["chat", "bob", "--user", "alice", "--name", "Alice", *common], editor=editor
    )
    alice.wait_text("Message bob — enter sends")
    bob.wait_text("Message alice — enter sends")
    for term in (alice, bob):
        term.wait_text("connected")

    pasted = "first line of three\nsecond line\nthird and last line"
    alice.paste(pasted)
    alice.wait_text("third and last line")
    alice.press("Enter")

    def three_lines_in_a_row(screen: str) -> bool:
        lines = screen.splitlines()
        first = next((i for i, line in enumerate(lines) if "first line of three" in line), -1)
        return (
            first >= 0
            and "alice" in lines[first]
            and "second line" in lines[first + 1]
            and "third and last line" in lines[first + 2]
        )

    bob.wait_for(three_lines_in_a_row, "one message of three lines", timeout=10)

    alice.type("typed")
    alice.press("C-j")
    alice.type("over two lines")
    alice.press("C-e")  # the editor adds a third line and the TUI comes back
    alice.wait_text("and from the editor")
    alice.press("Enter")
    bob.wait_text("and from the editor", timeout=10)

    # a terminal without bracketed paste: each line is a message, in order, whole
    alice.paste("one by\ntwo by\nthree by", bracketed=False)
    bob.wait_text("two by", timeout=10)
    alice.wait_text("three by")  # no line break after it: still in the box
    alice.press("Enter")
    bob.wait_text("three by", timeout=10)

    typed = "typed\nover two lines\nand from the editor"
    want = [pasted, typed, "one by", "two by", "three by"]
    for user, peer in (("alice", "bob"), ("bob", "alice")):
        rows = history(user, peer, own_broker, tmp_path)
        assert [(r["from"], r["body"]) for r in rows] == [("alice", body) for body in want]


def test_one_person_on_two_terminals(
    own_broker: Mosquitto,
    tmp_path: Path,
    terminals: Callable[[str, list[str]], Terminal],
) -> None:
    """alice on two terminals (two data dirs), bob on one, as a person sees them:
    bob's message shows on both of alice's, what she sends from one shows on the
    other, reading it on one clears the count on the other, quitting one leaves her
    online for bob, and killing the last one shows her offline to him."""

    def chat(name: str, user: str, peer: str, data: str) -> Terminal:
        where = ["--broker", own_broker.url, "--data-dir", str(tmp_path / data)]
        return terminals(name, ["chat", peer, "--user", user, *where])

    bob = chat("bob", "bob", "alice", "bob")
    laptop = chat("laptop", "alice", "bob", "laptop")
    for term, peer in ((bob, "alice"), (laptop, "bob")):
        term.wait_text(f"Message {peer} — enter sends")
        term.wait_text("connected")
    server = chat("server", "alice", "bob", "server")  # asks bob, a friend: accepted
    server.wait_text("Message bob — enter sends")
    server.wait_text("connected")

    bob.type("hello to both of you")
    bob.press("Enter")
    for term in (laptop, server):
        term.wait_text("hello to both of you", timeout=10)
    laptop.type("typed on the laptop")
    laptop.press("Enter")
    server.wait_text("typed on the laptop", timeout=10)

    for term in (laptop, server):  # the friends list, where new messages are counted
        term.press("Escape")
        term.wait_text("Friends")
    bob.type("are you there?")
    bob.press("Enter")
    for term in (laptop, server):
        term.wait_text("1 new", timeout=10)
    server.press("Enter")  # bob's conversation: read there
    server.wait_text("are you there?")
    laptop.wait_for(lambda s: "1 new" not in s, "the count cleared by reading elsewhere")

    laptop.press("C-q")
    server.type("still here")
    server.press("Enter")
    bob.wait_text("still here", timeout=10)
    assert "online" in bob.screen().splitlines()[1]

    os.kill(server.pid(), signal.SIGKILL)
    bob.wait_for(lambda s: "last seen" in s.splitlines()[1], "alice offline", timeout=5)
