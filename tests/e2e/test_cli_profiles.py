"""``--profile`` and ``--config`` on the command line: the profile is the lowest layer
(file < ``MQCHAT_*`` < flags), and nothing mqchat writes ever holds the password."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import pytest

from mqchat.cli.main import main
from mqchat.config.loader import choose_profile, load_settings
from mqchat.config.profiles import Profile, save_profile
from tests.support.cli import mqchat
from tests.support.mosquitto import Mosquitto, require_mosquitto


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    save_profile(path, "work", Profile(broker="mqtt://file.example:1111", user="fileuser"))
    save_profile(path, "other", Profile(broker="mqtt://other.example:2222", user="o"))
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("MQCHAT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MQCHAT_CONFIG", str(tmp_path / "none.toml"))


def where(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The user and broker ``mqchat history`` would read, from its "no history" line."""
    assert main(["history", "bob", "--data-dir", "/nonexistent", *argv]) == 1
    err = capsys.readouterr().err
    assert "no history for" in err, err
    return err.split("no history for ", 1)[1].split(" (", 1)[0]


def test_file_then_env_then_flags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config: Path
) -> None:
    assert where(capsys, "--config", str(config), "--profile", "work") == (
        "fileuser on file.example:1111"
    )
    monkeypatch.setenv("MQCHAT_BROKER", "mqtt://env.example:3333")
    assert where(capsys, "--config", str(config), "--profile", "work") == (
        "fileuser on env.example:3333"
    )
    assert where(
        capsys, "--config", str(config), "--profile", "work", "--broker", "flag.example:4444"
    ) == ("fileuser on flag.example:4444")
    assert os.environ.get("MQCHAT_USER") is None  # the profile left nothing behind


def test_default_profile_and_env_choices(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config: Path
) -> None:
    monkeypatch.setenv("MQCHAT_CONFIG", str(config))
    assert where(capsys, "--user", "x") == "x on localhost:1883"  # no default profile
    monkeypatch.setenv("MQCHAT_PROFILE", "other")
    assert where(capsys) == "o on other.example:2222"
    save_profile(config, "work", Profile(broker="mqtt://file.example:1111"), make_default=True)
    monkeypatch.delenv("MQCHAT_PROFILE")
    assert where(capsys, "--user", "u") == "u on file.example:1111"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--profile", "nope"], "no profile 'nope' (profiles: other, work)"),
        (["--config", "/nonexistent/c.toml", "--profile", "x"], "no profile 'x'"),
        (["--config", "/nonexistent/c.toml"], "no such config file"),
    ],
)
def test_a_bad_choice_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], config: Path, argv: list[str], says: str
) -> None:
    if "--config" not in argv:
        argv = ["--config", str(config), *argv]
    assert main(["history", "bob", "--user", "u", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_a_profile_means_what_its_variables_mean_and_the_environment_is_only_read() -> None:
    profile = Profile(broker="mqtts://h", insecure=True, keepalive=30, cafile="/ca.pem", user="u")
    as_variables = {
        "MQCHAT_BROKER": "mqtts://h",
        "MQCHAT_KEEPALIVE": "30",
        "MQCHAT_CAFILE": "/ca.pem",
        "MQCHAT_INSECURE": "1",
        "MQCHAT_USER": "u",
    }
    assert load_settings(profile=profile, environ={}) == load_settings(environ=as_variables)
    env = {"MQCHAT_CONFIG": "/nonexistent/none.toml", "MQCHAT_KEEPALIVE": "20"}
    read_only = MappingProxyType(env)  # any write would raise
    chosen = choose_profile(None, None, read_only)
    assert chosen.name is None
    assert load_settings(profile=chosen.profile, environ=read_only, chat_user=False).keepalive == 20
    assert env == {"MQCHAT_CONFIG": "/nonexistent/none.toml", "MQCHAT_KEEPALIVE": "20"}


def test_send_with_a_profile_and_no_password_in_any_file(tmp_path: Path) -> None:
    require_mosquitto()
    password = "pw-Zq81-never-on-disk"
    server = Mosquitto(tmp_path / "mosquitto", users={"alice": password, "bob": "b"}).start()
    try:
        home = tmp_path / "home"
        config = home / "config.toml"
        save_profile(
            config,
            "local",
            Profile(broker=f"mqtt://alice:{password}@127.0.0.1:{server.port}", user="alice"),
            make_default=True,
        )
        data = home / "data"
        env = {"MQCHAT_CONFIG": str(config), "MQCHAT_PASSWORD": password}
        sent = mqchat("send", "bob", "hello from a profile", data=data, env=env)
        assert sent.returncode == 0, sent.stderr
        history = mqchat("history", "bob", data=data, env=env)
        assert "hello from a profile" in history.stdout
        wrong = mqchat("send", "bob", "x", data=data, env=env | {"MQCHAT_PASSWORD": "nope"})
        assert wrong.returncode == 1 and "not authorized" in wrong.stderr
        for output in (sent, history, wrong):
            assert password not in output.stdout + output.stderr
    finally:
        server.stop()
    written = [p for p in home.rglob("*") if p.is_file()]
    assert config in written and any(p.suffix == ".sqlite3" for p in written)
    for path in written:
        assert password.encode() not in path.read_bytes(), path
