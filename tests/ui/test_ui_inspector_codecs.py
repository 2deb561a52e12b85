"""Decoded payloads in the inspector's detail pane (issue 17, acceptance 5): snapshots
of a Sparkplug B payload, Protobuf without and with a descriptor set, MessagePack and
CBOR, each detected with its confidence; and ``f``, which sets a topic's format,
cycles to the next and back to detected, and is remembered per topic while another
topic keeps its own. Update the SVGs with ``--snapshot-update`` and look at them."""

from __future__ import annotations

from pathlib import Path

from mqchat.inspector.codecs import Codec, Decoding, Format, load_descriptor_set
from mqchat.inspector.payload import View
from mqchat.widgets.inspector.detail import DetailView
from tests.support.codecs import (
    READING_TYPE,
    cbor_bytes,
    msgpack_bytes,
    reading_bytes,
    sparkplug_bytes,
    write_descriptor_set,
)
from tests.support.fake_feed import T0, FakeFeed
from tests.support.inspector_app import build, inspector, notes, select, tick
from tests.support.screen import screen_text, settle
from tests.ui.test_ui_inspector_snapshots import SIZE, steps

SPARKPLUG = "spBv1.0/plant/DDATA/edge1/pump"
RAW = "factory/line1/raw"
TYPED = "factory/line1/reading"
PACKED = "factory/line1/pump"
CBOR = "factory/line1/valve"
NUMBER = "factory/line1/temperature"


def fill(feed: FakeFeed) -> None:
    feed.push(SPARKPLUG, sparkplug_bytes(), qos=1, ts=T0 - 5)
    feed.push(RAW, reading_bytes(), ts=T0 - 4)
    feed.push(TYPED, reading_bytes(), ts=T0 - 3)
    feed.push(PACKED, msgpack_bytes(), ts=T0 - 2)
    feed.push(CBOR, cbor_bytes(), ts=T0 - 1)
    feed.push(NUMBER, b"55.49", ts=T0)


def decoding(tmp_path: Path) -> Decoding:
    return Decoding(load_descriptor_set(write_descriptor_set(tmp_path / "demo.desc")), READING_TYPE)


def app_for(topic_filter: str, tmp_path: Path | None = None):  # type: ignore[no-untyped-def]
    feed = FakeFeed()
    fill(feed)
    return build(
        feed,
        filters=(topic_filter,),
        decoding=decoding(tmp_path) if tmp_path is not None else None,
    )


def test_sparkplug_b_decoded(snap_compare):
    assert snap_compare(app_for("spBv1.0/#"), terminal_size=SIZE, run_before=steps(SPARKPLUG))


def test_protobuf_without_a_schema_shows_field_numbers(snap_compare):
    assert snap_compare(app_for("factory/#"), terminal_size=SIZE, run_before=steps(RAW))


def test_protobuf_with_a_descriptor_set_names_fields(snap_compare, tmp_path):
    app = app_for("factory/#", tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(TYPED))


def test_messagepack_decoded(snap_compare):
    assert snap_compare(app_for("factory/#"), terminal_size=SIZE, run_before=steps(PACKED))


def test_cbor_decoded(snap_compare):
    assert snap_compare(app_for("factory/#"), terminal_size=SIZE, run_before=steps(CBOR))


async def test_f_sets_the_topic_format_and_remembers_it_per_topic() -> None:
    feed = FakeFeed()
    fill(feed)
    app = build(feed, filters=("#",))
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        screen = inspector(app)
        detail = screen.query_one(DetailView)
        await select(pilot, app, NUMBER)
        assert "55.49" in screen_text(app) and detail.view is View.TEXT
        await pilot.press("f")  # text set to MessagePack: it says it is not
        await settle(pilot)
        assert screen.formats == {NUMBER: Format(Codec.MSGPACK)}
        assert "format: msgpack, set for this topic" in screen_text(app)
        assert "not MessagePack" in screen_text(app)
        assert any("format msgpack (for this session)" in n for n in notes(app))
        await select(pilot, app, PACKED)  # another topic: detected, not the override
        assert "detected: msgpack, 95%" in screen_text(app)
        await pilot.press("f", "f")  # msgpack → cbor: set for this topic only
        await settle(pilot)
        assert screen.formats[PACKED] == Format(Codec.CBOR)
        assert "not CBOR" in screen_text(app)
        await select(pilot, app, NUMBER)  # the first topic kept its own
        assert "format: msgpack, set for this topic" in screen_text(app)
        for _ in range(len(screen.decoding.formats())):  # round to detected again
            await pilot.press("f")
        await settle(pilot)
        assert NUMBER not in screen.formats
        assert "set for this topic" not in screen_text(app)
        assert detail.view is View.TEXT


async def test_formats_come_from_the_last_run_and_f_saves_them() -> None:
    feed = FakeFeed()
    fill(feed)
    saved: list[tuple[str, str | None]] = []

    def remember(topic: str, label: str | None) -> str | None:
        saved.append((topic, label))
        return "config.toml: read-only file system" if label == "sparkplug" else None

    app = build(feed, filters=("#",), formats={PACKED: Format(Codec.CBOR)}, remember=remember)
    async with app.run_test(size=(120, 40)) as pilot:
        await tick(pilot, app)
        await select(pilot, app, PACKED)
        assert "format: cbor, set for this topic" in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        assert saved == [(PACKED, "protobuf")]
        assert any("format protobuf (saved in config.toml)" in n for n in notes(app))
        await pilot.press("f")  # the save fails: said, and kept for the session
        await settle(pilot)
        assert saved[-1] == (PACKED, "sparkplug")
        assert "config.toml: read-only file system" in notes(app)
        assert any("format sparkplug (for this session)" in n for n in notes(app))
        assert "format: sparkplug, set for this topic" in screen_text(app)
        await pilot.press("f")  # back to detected: removed from the file
        await settle(pilot)
        assert saved[-1] == (PACKED, None)
        assert "detected: msgpack, 95%" in screen_text(app)
