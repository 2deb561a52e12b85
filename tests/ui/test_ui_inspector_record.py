"""The inspector's ``r``: the flight recorder on a live capture (issue 17). While on,
the status line says ``● REC n msgs``; ``r`` again stops it and the file holds every
message taken meanwhile, byte for byte, with QoS, retain, properties and time."""

from __future__ import annotations

from pathlib import Path

from mqchat.inspector.recording import read_all
from mqchat.widgets.inspector.status import InspectorStatus
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, inspector, notes, tick
from tests.support.screen import screen_text, settle


def _status(app) -> str:
    return screen_text(app.screen.query_one(InspectorStatus))


async def test_r_records_what_is_captured_until_r_again(tmp_path: Path) -> None:
    feed = FakeFeed()
    feed.push("home/before", b"not recorded")
    app = build(feed, tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await tick(pilot, app)
        assert "REC" not in _status(app)
        await pilot.press("r")
        await settle(pilot)
        props = {"ContentType": "application/cbor", "UserProperty": [("k", "v")]}
        feed.push("home/bin", bytes(range(256)), qos=1, retain=True, properties=props)
        feed.push("home/[red]x[/red]", b"\x00\xff", qos=2)
        await tick(pilot, app)
        assert "● REC 2 msgs" in _status(app)
        await pilot.press("r")
        await settle(pilot, 10)
        assert "REC" not in _status(app)
        assert inspector(app).recorder is None
    files = list((tmp_path / "recordings").glob("inspect-*.mqrec"))
    assert len(files) == 1
    assert any("2 messages in" in n for n in notes(app))
    header, messages, note = read_all(files[0])
    assert note is None
    assert header["source"] == "mqchat inspect" and header["filters"] == ["home/#", "mqchat/#"]
    assert [(m.topic, m.payload, m.qos, m.retain, m.properties) for m in messages] == [
        ("home/bin", bytes(range(256)), 1, True, props),
        ("home/[red]x[/red]", b"\x00\xff", 2, False, None),
    ]
    assert all(m.ts == T0 for m in messages)


async def test_closing_the_inspector_ends_the_recording_with_its_messages(tmp_path: Path) -> None:
    feed = FakeFeed()
    app = build(feed, tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("r")
        for i in range(5000):
            feed.push(f"home/n{i % 7}", b"%d" % i)
        while feed.buffer:  # the screen takes a flood over several ticks
            await tick(pilot, app)
        await pilot.press("q")
        await settle(pilot)
    (path,) = (tmp_path / "recordings").glob("*.mqrec")
    _, messages, _ = read_all(path)
    assert [m.payload for m in messages] == [b"%d" % i for i in range(5000)]
