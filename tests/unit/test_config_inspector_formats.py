"""``[inspector.formats]`` of config.toml: the payload format ``f`` set for a topic in
``mqchat inspect``, saved (comments and the rest of the file kept), removed, read back
and checked, with one line naming the key for a bad entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.config.profiles import (
    ConfigError,
    Profile,
    load_config,
    save_payload_format,
    save_profile,
    save_ui,
)
from mqchat.inspector.codecs import Codec, CodecError, Format

COMMENTED = """\
# my mqchat
[ui]
theme = "nord"   # easy on the eyes

[inspector.formats]
"plant/pump" = "cbor"   # the pump speaks CBOR
"""


def test_saved_removed_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    hostile = 'a "quoted"\ttopic/\u202e#'
    save_payload_format(path, hostile, "protobuf demo.Reading")
    save_payload_format(path, "plant/pump", "sparkplug")
    text = path.read_text()
    assert text.startswith(COMMENTED.split('"plant/pump"')[0])
    assert '"plant/pump" = "sparkplug"   # the pump speaks CBOR' in text
    assert load_config(path).inspector.formats == {
        "plant/pump": "sparkplug",
        hostile: "protobuf demo.Reading",
    }
    save_payload_format(path, "plant/pump", None)
    save_payload_format(path, "never/set", None)
    assert load_config(path).inspector.formats == {hostile: "protobuf demo.Reading"}
    assert load_config(path).ui.theme == "nord"
    # saving a profile or the theme keeps the formats
    save_profile(path, "work", Profile(broker="mqtt://h"))
    save_ui(path, "theme", "dracula")
    assert load_config(path).inspector.formats == {hostile: "protobuf demo.Reading"}


def test_a_new_file_gets_the_table(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_payload_format(path, "spBv1.0/g/DDATA/n", "sparkplug")
    assert '[inspector.formats]\n"spBv1.0/g/DDATA/n" = "sparkplug"' in path.read_text()
    assert load_config(path).inspector.formats == {"spBv1.0/g/DDATA/n": "sparkplug"}


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ('[inspector.formats]\n"t" = "yaml"', r"inspector\.formats\.t: expected msgpack, cbor"),
        ('[inspector.formats]\n"t" = "cbor x.Y"', r"got \"cbor x\.Y\""),
        ('[inspector.formats]\n"t" = 3', r"inspector\.formats\.t: expected msgpack, .* got 3"),
        (
            "[inspector]\nrules = 1",
            r"unknown key 'rules' \(known: formats, bell, watch, publishes\)",
        ),
    ],
)
def test_a_bad_entry_is_one_line(tmp_path: Path, table: str, why: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(table + "\n")
    with pytest.raises(ConfigError, match=why):
        load_config(path)


def test_every_saved_label_parses_back() -> None:
    for fmt in (Format(Codec.CBOR), Format(Codec.PROTOBUF, "a.B"), Format(Codec.SPARKPLUG)):
        assert Format.parse(fmt.label) == fmt
    with pytest.raises(CodecError):
        Format.parse("cbor x.Y")
