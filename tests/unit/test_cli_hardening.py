"""The command line as a careless user and an attacker use it: a password where
``ps`` shows it, bad hosts and ports, logins too long for MQTT, bytes that are not
UTF-8. Each is one line on stderr and exit 2, before anything connects, is stored or
the TUI starts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mqchat.cli.main import main
from mqchat.config.broker_url import parse_broker_url
from mqchat.config.paths import database_path
from mqchat.store import ChatStore

NOWHERE = "mqtt://127.0.0.1:1"  # nothing listens: a connection attempt fails at once
LABEL_64 = "a" * 64 + ".example"
HOST_300 = ("a" * 49 + ".") * 6 + "com"
HOST_253 = ("a" * 62 + ".") * 4 + "b"
TOO_LONG = "x" * 70_000


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("MQCHAT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MQCHAT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("MQCHAT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def no_tui(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test here that reaches the TUI has failed: say so rather than start it."""
    import mqchat.app
    import mqchat.inspect_app

    def started(*_args: object, **_kwargs: object) -> Any:
        raise AssertionError("the TUI started")

    monkeypatch.setattr(mqchat.app, "make_app", started)
    monkeypatch.setattr(mqchat.inspect_app, "make_inspect_app", started)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("mqchat: ") and err.count("\n") == 1, err
    return err


PASSWORD_URL = "mqtt://alice:s3cret-horse@127.0.0.1:1"


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "bob", "hi", "--user", "alice"],
        ["history", "bob", "--user", "alice"],
        ["chat", "--user", "alice"],
        [],  # the TUI at the login screen
        ["sub", "t"],
        ["pub", "t", "x"],
        ["clear-retained", "t"],
        ["inspect"],
        ["probe"],
        ["bench", "pub"],
        ["bench", "sub"],
    ],
    ids=lambda argv: " ".join(argv) or "tui",
)
def test_a_password_in_broker_on_the_command_line_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*argv, "--broker", PASSWORD_URL]) == 2
    err = one_line(capsys)
    assert "--broker holds a password" in err and "MQCHAT_PASSWORD" in err
    assert "s3cret-horse" not in err
    assert not (tmp_path / "data").exists()  # nothing was stored


def test_a_password_in_probes_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`mqchat probe URL` is `--broker URL`, checked the same way."""
    assert main(["probe", PASSWORD_URL]) == 2
    assert "--broker holds a password" in one_line(capsys)


def test_a_password_hidden_by_an_unreadable_url_is_refused_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sub", "t", "--broker", "mqtt://alice:pass/word@127.0.0.1"]) == 2
    assert "--broker holds a password" in one_line(capsys)


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--broker", "mqtt://127.0.0.1:0"], {}, "port 0 (ports are 1-65535)"),
        (["--broker", f"mqtt://{LABEL_64}"], {}, "not a valid DNS name"),
        (["--broker", f"mqtt://{HOST_300}"], {}, "longer than 253 characters"),
        (["--broker", "ws://127.0.0.1/a b"], {}, "the path holds a space"),
        (["--broker", NOWHERE], {"MQCHAT_PASSWORD": TOO_LONG}, "the password is 70,000 bytes"),
        (["--broker", "mqtt://\udcff"], {}, "--broker is not valid UTF-8 text: 'mqtt://\\udcff'"),
    ],
    ids=["port0", "label64", "host300", "wspath", "password70k", "host-not-utf8"],
)
@pytest.mark.parametrize(
    "command",
    [
        ["send", "bob", "hi", "--user", "alice"],
        ["chat", "--user", "alice"],
        ["sub", "t"],
        ["pub", "t", "x"],
    ],
    ids=["send", "chat", "sub", "pub"],
)
def test_bad_connection_values_are_one_line_and_exit_2(
    command: list[str],
    argv: list[str],
    env: dict[str, str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main([*command, *argv]) == 2
    assert says in one_line(capsys)
    assert not (tmp_path / "data").exists()  # `send` left nothing pending for next time


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["send", "alice", "hi\udcff", "--user", "bob"], "TEXT is not valid UTF-8 text"),
        (["send", "alice", "hi", "--user", "b\udcffob"], "--user is not valid UTF-8 text"),
        (["chat", "b\udcffob", "--user", "alice"], "PEER is not valid UTF-8 text"),
        (["--user", "b\udcffob"], "--user is not valid UTF-8 text"),
        (["chat", "--user", "alice", "--name", "\udcff"], "--name is not valid UTF-8 text"),
        (["sub", "t/\udcff"], "FILTER is not valid UTF-8 text"),
        (["sub", "t", "--user", TOO_LONG], "the MQTT user name is 70,000 bytes"),
        (["send", "bob", "hi", "--user", "alice", "--broker", f"mqtt://{TOO_LONG}@h"], "70,000"),
    ],
)
def test_bad_text_arguments_are_one_line_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*argv, "--broker", NOWHERE] if "--broker" not in argv else argv) == 2
    assert says in one_line(capsys)
    assert not (tmp_path / "data").exists()


def test_a_message_not_utf8_is_refused_but_a_pub_payload_is_bytes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["send", "bob", "\udcff", "--user", "alice", "--broker", NOWHERE]) == 2
    assert "TEXT is not valid UTF-8" in one_line(capsys)
    # `pub` sends its PAYLOAD byte for byte: not refused, it gets as far as connecting.
    assert main(["pub", "t", "\udcff", "--broker", NOWHERE]) == 1
    assert "not valid UTF-8" not in capsys.readouterr().err


def test_a_tui_that_stopped_on_an_error_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import mqchat.app

    class Crashed:
        return_code = 1  # what Textual sets after printing an unhandled exception

        def run(self) -> None:
            pass

    monkeypatch.setattr(mqchat.app, "make_app", lambda **_kwargs: Crashed())
    assert main(["chat", "--user", "alice", "--broker", NOWHERE]) == 1
    assert main([]) == 1


async def test_the_longest_host_name_gets_a_history_folder(tmp_path: Path) -> None:
    path = database_path(tmp_path, parse_broker_url(f"mqtt://{HOST_253}:65535"), "alice")
    other = database_path(tmp_path, parse_broker_url(f"mqtt://{HOST_253[:-1]}c:65535"), "alice")
    assert len(path.parent.name) <= 255 and path.parent != other.parent
    store = await ChatStore.open(path, within=tmp_path)
    await store.close()
    assert path.exists()
    short = database_path(tmp_path, parse_broker_url("mqtt://broker.example:1884"), "alice")
    assert short.parent.name == "broker.example_1884"  # as before: histories are found


def test_a_history_that_cannot_be_opened_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    send = ["send", "bob", "hi", "--user", "alice", "--broker", NOWHERE]
    assert main([*send, "--data-dir", str(not_a_folder)]) == 1
    err = one_line(capsys)
    assert err.startswith("mqchat: not sent: cannot open the history ")
    assert f"{not_a_folder} is a file, not a folder; move it away" in err
    garbage = database_path(tmp_path / "g", parse_broker_url(NOWHERE), "alice")
    garbage.parent.mkdir(parents=True)
    garbage.write_text("not a database")
    assert main([*send, "--data-dir", str(tmp_path / "g")]) == 1
    assert "cannot use the history" in one_line(capsys)
    history = ["history", "bob", "--user", "alice", "--broker", NOWHERE]
    assert main([*history, "--data-dir", str(tmp_path / "g")]) == 1
    assert "file is not a database; it is damaged or not an mqchat history" in one_line(capsys)
    assert main([*history, "--data-dir", str(tmp_path / ("d" * 300))]) == 1
    assert "no history for alice" in one_line(capsys)
