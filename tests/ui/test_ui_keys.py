"""Key bindings from ``[keys]`` of config.toml: a real file, read as the command line
reads it, rebinds keys in the TUI and in the standalone inspector; a bad entry is one
line naming the file and the key, exit 2, before any screen appears."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.app import LoginDefaults, make_app
from mqchat.cli.bindings import keymap_from
from mqchat.cli.main import main
from mqchat.config.profiles import load_config
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.inspector.forms import ViewFilterScreen
from mqchat.screens.keys_help import KeysHelpScreen
from tests.support.fake_backend import NOW, FakeBackend, fake_factory
from tests.support.fake_feed import FakeFeed
from tests.support.inspector_app import build
from tests.support.screen import screen_text, settle


def config_with(tmp_path: Path, keys: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"# my keys\n[keys]\n{keys}\n", encoding="utf-8")
    return path


async def test_a_keys_entry_rebinds_quit(tmp_path: Path, backend: FakeBackend) -> None:
    keymap = keymap_from(load_config(config_with(tmp_path, '"app.quit" = "ctrl+x"')))
    assert keymap == {"app.quit": "ctrl+x"}
    _, connect = fake_factory(backend)
    app = make_app(
        defaults=LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
        connect=connect,
        auto_login=True,
        clock=lambda: NOW,
        cursor_blink=False,
        keymap=keymap,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "^x Quit" in footer and "^q" not in footer
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert not app._exit and backend.stop_calls == 0  # ctrl+q does nothing now
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert app._exit and backend.stop_calls == 1


async def test_the_inspector_takes_keys_from_the_config_and_its_help_shows_them(
    tmp_path: Path,
) -> None:
    path = config_with(tmp_path, '"inspector.filter" = "f"\n"inspector.help" = "f1"')
    feed = FakeFeed()
    app = build(feed)
    app.set_keymap(keymap_from(load_config(path)))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelpScreen)
        rows = [line.strip("│ ").split(maxsplit=1) for line in screen_text(app).splitlines()]
        assert ["f", "Filter"] in rows and ["f1", "This list of keys"] in rows
        assert ["/", "Filter"] not in rows
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ViewFilterScreen)


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        (
            '"app.qiut" = "ctrl+x"',
            'keys."app.qiut": no binding has this id (`mqchat bindings` lists them)',
        ),
        (
            '"app.quit" = "ctrl+"',
            "keys.\"app.quit\": 'ctrl+' is not a key (keys are e.g. x, ctrl+x",
        ),
        ('"app.quit" = "crtl+x"', "keys.\"app.quit\": 'crtl' in 'crtl+x' is not a modifier"),
        ('"app.quit" = "ctrl+x,"', "keys.\"app.quit\": 'ctrl+x,' holds an empty key"),
        ('"app.quit" = "ctrl+nope"', "keys.\"app.quit\": 'ctrl+nope' is not a key"),
        (
            '"app.quit" = ["ctrl+x"]',
            'keys."app.quit": expected a key such as "ctrl+x", got an array',
        ),
    ],
)
def test_a_bad_keys_entry_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: str, says: str
) -> None:
    path = config_with(tmp_path, keys)
    assert main(["chat", "--user", "alice", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mqchat: {path}: ") and err.count("\n") == 1
    assert says in err


def test_mqchat_bindings_lists_the_ids_with_the_keys_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_with(tmp_path, '"app.quit" = "ctrl+x"')
    assert main(["bindings", "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    [quit_line] = [line for line in lines if line.startswith("app.quit ")]
    assert quit_line.split() == ["app.quit", "ctrl+x", "Quit", "(config)"]
    [add_line] = [line for line in lines if line.startswith("friends.add ")]
    assert add_line.split() == ["friends.add", "a", "Add", "friend"]
