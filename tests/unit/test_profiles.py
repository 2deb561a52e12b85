"""Connection profiles in the TOML config: reading, writing back without losing
other profiles, and never a password on disk."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mqchat.config.loader import default_config_path
from mqchat.config.profiles import (
    Config,
    ConfigError,
    Profile,
    load_config,
    save_profile,
)

WORK = Profile(
    broker="mqtts://mq.example.com:8883",
    user="alice",
    display_name='Alice "A" \\ Ł',
    cafile="/etc/ssl/ca.pem",
    mqtt_version="3.1.1",
    keepalive=30,
    session_expiry="12h",
    insecure=False,
)


def test_a_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.profiles == {}
    assert config.profile(None) == Profile()


def test_save_then_load_round_trips_and_keeps_other_profiles(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "config.toml"
    save_profile(path, "work", WORK, make_default=True)
    save_profile(path, "home", Profile(broker="mqtt://pi.local", user="al"))
    config = load_config(path)
    assert config.profiles == {"work": WORK, "home": Profile(broker="mqtt://pi.local", user="al")}
    assert config.default_profile == "work"
    assert config.profile(None) == WORK
    assert config.profile("home").user == "al"
    tomllib.loads(path.read_text())  # what we write is TOML any reader takes


def test_a_password_in_the_url_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_profile(path, "p", Profile(broker="wss://bob:s3cret-pw@host:8883/mqtt", user="bob"))
    text = path.read_text()
    assert "s3cret-pw" not in text
    assert load_config(path).profile("p").broker == "wss://bob@host:8883/mqtt"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[profiles.a]\npassword = 'x'\n", "passwords do not belong in the config file"),
        ("[profiles.a]\nbroker = 'mqtt://u:pw@h'\n", "the broker URL holds a password"),
        ("[profiles.a]\ncolour = 'red'\n", "unknown key 'colour'"),
        ("[profiles.a]\nkeepalive = '30'\n", 'profiles.a.keepalive: expected an integer, got "30"'),
        ("[profiles.a]\nkeepalive = true\n", "profiles.a.keepalive: expected an integer, got true"),
        ("[profiles.a]\nbroker = 'ftp://h'\n", "unsupported scheme"),
        ("[profiles.'a b']\n", "a profile name is"),
        ("default_profile = 'zz'\n[profiles.a]\n", "default_profile 'zz' is not one"),
        ("profiles = 3\n", "profiles: expected a table, got 3"),
        ("[profiles.a\n", "not valid TOML"),
    ],
)
def test_a_bad_file_says_which_and_why(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)
    assert "pw" not in str(caught.value).replace("password", "")


def test_an_unknown_profile_name_lists_the_known_ones(tmp_path: Path) -> None:
    config = Config(tmp_path / "c.toml", {"work": WORK, "home": Profile()})
    with pytest.raises(ConfigError, match=r"no profile 'wrok' \(profiles: home, work\)"):
        config.profile("wrok")


def test_saving_refuses_a_bad_name_a_bad_profile_and_an_unwritable_place(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="a profile name is"):
        save_profile(tmp_path / "c.toml", "has/slash", WORK)
    with pytest.raises(ConfigError, match="unsupported scheme"):
        save_profile(tmp_path / "c.toml", "bad", Profile(broker="ftp://h"))
    assert not (tmp_path / "c.toml").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=str(blocker)):
        save_profile(blocker / "c.toml", "ok", WORK)


def test_the_config_path_comes_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MQCHAT_CONFIG", str(tmp_path / "mine.toml"))
    assert default_config_path() == tmp_path / "mine.toml"
    monkeypatch.delenv("MQCHAT_CONFIG")
    assert default_config_path().name == "config.toml"
