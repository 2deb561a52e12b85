"""``mqchat inspect --descriptor FILE --message TYPE`` and ``[inspector.formats]``: a
descriptor set that cannot be used is one usage line before anything starts; the
formats saved in the config file reach the inspector, and its ``remember`` writes
the file. The app is replaced by a stand-in: running it would start the TUI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mqchat.inspect_app
from mqchat.cli.base import UsageError
from mqchat.cli.main import prepare
from mqchat.config.profiles import load_config
from mqchat.inspector.codecs import Codec, Format
from tests.support.codecs import READING_TYPE, write_descriptor_set

ENVIRON = {"MQCHAT_BROKER": "mqtt://127.0.0.1:1"}


class _App:
    return_code = 0

    def run(self) -> None:
        pass


def test_formats_and_the_descriptor_reach_the_inspector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[inspector.formats]\n"plant/pump" = "cbor"\n')
    desc = str(write_descriptor_set(tmp_path / "demo.desc"))
    seen: dict[str, Any] = {}

    def make(**kwargs: Any) -> _App:
        seen.update(kwargs)
        return _App()

    monkeypatch.setattr(mqchat.inspect_app, "make_inspect_app", make)
    argv = ["inspect", "--config", str(config), "--descriptor", desc, "--message", READING_TYPE]
    assert prepare(argv, ENVIRON).run() == 0
    assert seen["formats"] == {"plant/pump": Format(Codec.CBOR)}
    assert seen["decoding"].message == READING_TYPE
    assert seen["remember"]("plant/valve", "protobuf demo.Reading") is None
    assert load_config(config).inspector.formats == {
        "plant/pump": "cbor",
        "plant/valve": "protobuf demo.Reading",
    }


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        (["--message", "demo.Reading"], "--message needs --descriptor FILE"),
        (["--descriptor", "/nonexistent/x.desc"], "cannot read /nonexistent/x.desc"),
        (["--descriptor", "/tmp/\n\x1b[31m"], "cannot read /tmp/ \\[31m"),
    ],
)
def test_a_descriptor_that_cannot_be_used_is_one_line(flags: list[str], why: str) -> None:
    with pytest.raises(UsageError, match=why) as caught:
        prepare(["inspect", *flags], ENVIRON)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)
