"""The inspector's publishes kept for later: the history of those sent (bounded,
newest first, persisted 0600 in the data dir, a bad line skipped) and the named ones
saved in config.toml (the rest of the file kept as it was, refused when it would not
load back)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mqchat.config.profiles import load_config
from mqchat.config.publishes import forget_publish, save_publish
from mqchat.config.saved_publish import SavedPublish
from mqchat.config.schema import ConfigError
from mqchat.inspector.capture import Captured
from mqchat.inspector.publishes import (
    HISTORY_FILE,
    Publish,
    PublishBook,
    PublishHistory,
    prefill_from,
)


def test_history_is_bounded_newest_first_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "data" / HISTORY_FILE
    history = PublishHistory(path, limit=3)
    for n in range(5):
        assert history.add(Publish(f"t/{n}", f"p{n}")) is None
    assert [p.topic for p in history.entries] == ["t/4", "t/3", "t/2"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = PublishHistory(path, limit=3)
    assert again.entries == history.entries
    again.add(Publish("t/2", "p2"))  # sent again: moves to the top, once
    assert [p.topic for p in again.entries] == ["t/2", "t/4", "t/3"]


def test_history_skips_lines_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    path.write_text(
        '{"topic": "ok", "payload": "x\\u001b", "qos": 1}\n'
        "not json\n"
        '{"topic": "bad", "qos": 7}\n'
        '{"topic": 3}\n'
        '{"topic": "ok2", "unknown": 1}\n'
        "\xff\n"
    )
    history = PublishHistory(path)
    assert history.entries == [Publish("ok", "x\x1b", 1)]


def test_history_that_cannot_be_written_says_why_and_keeps_it(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    history = PublishHistory(blocked / HISTORY_FILE)
    failed = history.add(Publish("t"))
    assert failed is not None and str(blocked) in failed
    assert history.entries == [Publish("t")]


def test_saved_publishes_keep_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\n[profiles.w]\nbroker = "mqtt://x"  # keep\n')
    save_publish(path, "lamp on", SavedPublish("home/lamp/set", '{"on":\n true}', 1, True))
    save_publish(path, "ping", SavedPublish("t", content_type="text/plain", expiry=60))
    text = path.read_text()
    assert text.startswith('# mine\n[profiles.w]\nbroker = "mqtt://x"  # keep\n')
    saved = load_config(path).inspector.publishes
    assert saved["lamp on"] == SavedPublish("home/lamp/set", '{"on":\n true}', 1, True)
    assert saved["ping"].expiry == 60 and saved["ping"].content_type == "text/plain"
    forget_publish(path, "ping")
    assert list(load_config(path).inspector.publishes) == ["lamp on"]
    forget_publish(path, "never saved")  # nothing to do


@pytest.mark.parametrize("name", ["", "  ", "x" * 41, "bad\x1bname"])
def test_a_bad_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="name"):
        save_publish(tmp_path / "config.toml", name, SavedPublish("t"))
    assert not (tmp_path / "config.toml").exists()


def test_a_bad_saved_publish_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[inspector.publishes.x]\ntopic = "a"\nqos = 5\n')
    with pytest.raises(ConfigError, match=r"inspector\.publishes\.x\.qos: expected 0, 1 or 2"):
        load_config(path)


def test_the_book_reads_saved_ones_and_writes_through(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    save_publish(config, "one", SavedPublish("t/1", "a"))
    book = PublishBook(tmp_path, config)
    assert book.saved == {"one": Publish("t/1", "a")}
    assert book.save("two", Publish("t/2", "b", 2)) is None
    assert PublishBook(tmp_path, config).saved["two"] == Publish("t/2", "b", 2)
    assert book.forget("one") is None
    assert list(PublishBook(tmp_path, config).saved) == ["two"]
    assert PublishBook(tmp_path, None).save("x", Publish("t")) == "no config file to save in"


def test_prefill_takes_whole_text_only() -> None:
    props = {"ContentType": "application/json", "UserProperty": [("src", "hall")]}
    message = Captured(1, 0.0, "a/b", b'{"on": true}', 12, 1, True, props)
    assert prefill_from(message) == Publish(
        "a/b", '{"on": true}', 1, True, "application/json", "src=hall"
    )
    assert prefill_from(Captured(1, 0.0, "a/b", b"\x00\x01", 2)).payload == ""  # binary
    assert prefill_from(Captured(1, 0.0, "a/b", b"abc", 3000)).payload == ""  # cut
