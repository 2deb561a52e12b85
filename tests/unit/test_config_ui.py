"""``[ui]`` of config.toml: the theme (ctrl+p saves it, keeping the file's comments)
and how to alert while the terminal is not focused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.config.profiles import ConfigError, Profile, load_config, save_profile, save_ui
from mqchat.config.schema import Ui
from mqchat.screens.notifications import alert_sequence

COMMENTED = """\
# my mqchat
default_profile = "work"

[profiles.work]
broker = "mqtt://broker.example:1883"  # the office one

[ui]
theme = "nord"   # easy on the eyes
notify = "bell"

[keys]
"app.quit" = "ctrl+x"
"""


def test_ui_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    assert load_config(path).ui == Ui(theme="nord", notify="bell")
    assert load_config(tmp_path / "missing.toml").ui == Ui(theme=None, notify="off")
    path.write_text('[ui]\nnotify = "loud"\n')
    with pytest.raises(ConfigError, match=r"ui\.notify: expected one of off, bell, osc9, osc777"):
        load_config(path)
    path.write_text('[ui]\ncolour = "red"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'colour' \(known: theme, notify\)"):
        load_config(path)


def test_saving_the_theme_changes_one_value_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    save_ui(path, "theme", "gruvbox")
    assert path.read_text() == COMMENTED.replace('"nord"   #', '"gruvbox"   #')
    assert load_config(path).ui.theme == "gruvbox"


def test_a_first_theme_adds_a_ui_table_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_profile(path, "home", Profile(broker="mqtt://127.0.0.1:1883"))
    before = path.read_text()
    save_ui(path, "theme", "textual-light")
    after = path.read_text()
    assert after.startswith(before)
    assert load_config(path).ui.theme == "textual-light"
    assert load_config(path).profiles["home"].broker == "mqtt://127.0.0.1:1883"
    save_profile(path, "home", Profile(broker="mqtt://127.0.0.1:1884"))
    assert load_config(path).ui.theme == "textual-light"  # a profile save keeps it


def test_a_broken_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[ui\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_ui(path, "theme", "nord")
    assert path.read_text() == "[ui\n"


def test_alerts_cannot_be_steered_by_the_peer() -> None:
    assert alert_sequence("off", "mqchat: bob", "hi") == ""
    assert alert_sequence("bell", "mqchat: bob", "hi") == "\a"
    assert alert_sequence("osc9", "mqchat: bob", "hi\nthere") == "\x1b]9;mqchat: bob: hi…\x1b\\"
    hostile = "a;b\x1b\\\x1b]777;notify;fake;x\x07"
    sequence = alert_sequence("osc777", "mqchat: bob", hostile)
    assert sequence.startswith("\x1b]777;notify;mqchat: bob;") and sequence.endswith("\x1b\\")
    inner = sequence[len("\x1b]777;notify;mqchat: bob;") : -2]
    assert "\x1b" not in inner and "\x07" not in inner and ";" not in inner
