"""``[[inspector.watch]]`` of config.toml: rules read and checked (one line naming the
rule and the key for a mistake), added and removed without touching the rest of the
file, and JSON paths parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.config.profiles import (
    ConfigError,
    load_config,
    save_payload_format,
    save_ui,
    save_watch_rule,
)
from mqchat.config.watch_rules import check_watch_rule, parse_field

COMMENTED = """\
# my mqchat
[ui]
theme = "nord"   # easy on the eyes

[inspector]
bell = false     # quiet nights

[[inspector.watch]]
name = "boiler"  # the one that matters
filter = "plant/+/boiler"
field = "temp"
above = 90
hysteresis = 2.5
"""


def test_read_with_the_bell() -> None:
    rules = (
        check_watch_rule(
            {"filter": "plant/+/boiler", "field": "temp", "above": 90, "name": "boiler"}
        ),
    )
    assert rules[0].path == ("temp",)
    assert rules[0].describe() == "> 90"
    assert rules[0].label == "boiler"


def test_added_and_removed_keeping_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    before = load_config(path)
    assert not before.inspector.bell
    (boiler,) = before.inspector.watch
    assert (boiler.above, boiler.hysteresis, boiler.describe()) == (90, 2.5, "> 90 · ± 2.5")

    quiet = check_watch_rule({"filter": "sensors/#", "silent_s": 30, "changes": True})
    save_watch_rule(path, quiet)
    save_ui(path, "theme", "textual-light")
    save_payload_format(path, "plant/pump", "cbor")
    after = load_config(path)
    assert after.inspector.watch == (boiler, quiet)
    assert after.inspector.formats == {"plant/pump": "cbor"}
    text = path.read_text()
    assert 'name = "boiler"  # the one that matters' in text
    assert "bell = false     # quiet nights" in text

    save_watch_rule(path, boiler, remove=True)
    assert load_config(path).inspector.watch == (quiet,)
    save_watch_rule(path, boiler, remove=True)  # gone already: nothing to do
    save_watch_rule(path, quiet, remove=True)
    after = load_config(path)
    assert after.inspector.watch == ()
    assert "inspector.watch" not in path.read_text()
    assert "bell = false     # quiet nights" in path.read_text()
    assert after.ui.theme == "textual-light"


def test_added_to_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    rule = check_watch_rule({"filter": "a/#", "field": 'x["y.z"][0]', "below": -1.5})
    save_watch_rule(path, rule)
    assert load_config(path).inspector.watch == (rule,)
    assert load_config(path).inspector.watch[0].path == ("x", "y.z", 0)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('filter = "a/+x"\nabove = 1', "#1: filter: the filter 'a/+x' has '+' inside"),
        ('filter = "a"', "#1: says nothing to watch for"),
        ('filter = "a"\nabove = "hot"', '#1: above: expected a number, got "hot"'),
        ('filter = "a"\nabove = nan', "#1: above: expected a finite number, got nan"),
        ('filter = "a"\nabove = 1\nbelow = 5', "#1: above (1) is under below (5)"),
        ('filter = "a"\nsilent_s = 0', "#1: silent_s: expected seconds from 1 to 604800"),
        ('filter = "a"\nchanges = "yes"', '#1: changes: expected true or false, got "yes"'),
        ('filter = "a"\nabove = 1\nfield = "a..b"', "#1: field: the field 'a..b' is not"),
        ('filter = "a"\nabove = 1\nhysteresis = -1', "#1: hysteresis: expected 0 or more"),
        ('filter = "a"\nabove = 1\ncolour = "red"', "#1: unknown key 'colour' (known: name,"),
        ("above = 1", "#1: filter: expected a topic filter"),
    ],
)
def test_a_bad_rule_is_one_line(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "config.toml"
    first = '[[inspector.watch]]\nfilter = "ok"\nchanges = true\n\n'
    path.write_text(f"{first}[[inspector.watch]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{path}: [[inspector.watch]] {said.replace('#1', '#2')}" in message


def test_bell_must_be_true_or_false(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[inspector]\nbell = "loud"\n')
    with pytest.raises(ConfigError, match=r'inspector\.bell: expected true or false, got "loud"'):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("temp", ("temp",)),
        ("a.b[0]", ("a", "b", 0)),
        ("readings.0", ("readings", "0")),
        ('a["x.y"].b', ("a", "x.y", "b")),
        ("[2][3]", (2, 3)),
    ],
)
def test_json_paths(text: str, path: tuple[object, ...]) -> None:
    assert parse_field(text) == path


@pytest.mark.parametrize("text", ["", ".a", "a.", "a[", "a[x]", "a]b", 'a["x]', "a..b"])
def test_bad_json_paths(text: str) -> None:
    with pytest.raises(ValueError):
        parse_field(text)
