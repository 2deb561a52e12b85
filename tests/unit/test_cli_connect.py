"""The shared connection options of the command line: flags over ``MQCHAT_*``, yes/no
variables, TLS options that only make sense with a TLS URL, and the MQTT version."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from mqchat.cli.base import UsageError
from mqchat.cli.connect import command_layers, command_settings
from mqchat.cli.main import build_parser, main
from mqchat.config.env import parse_yes_no
from mqchat.config.loader import connection_options
from mqchat.config.profiles import Profile
from mqchat.config.settings import MqttVersion, Settings
from mqchat.config.tls_options import TlsOptions


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def tls_and_version(
    args: argparse.Namespace, env: dict[str, str]
) -> tuple[TlsOptions, MqttVersion | None]:
    """What the loader makes of the flags over ``env`` (no profile), before any URL."""
    options = connection_options(command_layers(args, env, Profile()))
    return options.tls, options.mqtt_version


def settings(args: argparse.Namespace, env: dict[str, str]) -> Settings:
    """A tool's settings (no chat user) from the flags over ``env`` (no profile)."""
    layers = command_layers(args, env, Profile())
    return command_settings(args, env, chat_user=False, layers=layers)


def test_flags_win_over_the_environment() -> None:
    args = parse("send", "bob", "x", "--user", "alice", "--cafile", "flag.pem", "-V", "5")
    env = {
        "MQCHAT_CAFILE": "env.pem",
        "MQCHAT_CERTFILE": "client.pem",
        "MQCHAT_KEYFILE": "client.key",
        "MQCHAT_MQTT_VERSION": "311",
    }
    tls, version = tls_and_version(args, env)
    assert tls == TlsOptions(
        cafile=Path("flag.pem"), certfile=Path("client.pem"), keyfile=Path("client.key")
    )
    assert version == "5"


def test_nothing_given_means_system_trust_and_mqtt_5_with_fallback() -> None:
    assert tls_and_version(parse("send", "bob", "x", "--user", "a"), {}) == (TlsOptions(), None)


def test_options_before_the_command_name_are_kept() -> None:
    args = parse("--insecure", "--mqtt-version", "3.1.1", "chat", "--user", "alice")
    assert tls_and_version(args, {}) == (TlsOptions(insecure=True), "3.1.1")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False), ("", False),
     ("no", False), ("Off", False)],
)  # fmt: skip
def test_yes_no_variables(text: str, value: bool) -> None:
    assert parse_yes_no(text, "MQCHAT_INSECURE") is value


def test_a_yes_no_variable_that_is_neither_is_refused() -> None:
    with pytest.raises(UsageError, match="MQCHAT_INSECURE='maybe' is neither yes"):
        settings(parse("pub", "t", "x"), {"MQCHAT_INSECURE": "maybe"})


def test_tls_flags_need_a_tls_url_but_tls_variables_are_ignored_without_one() -> None:
    flagged = parse("pub", "t", "x", "--broker", "ws://h", "--insecure", "--certfile", "c.pem")
    with pytest.raises(UsageError, match="--certfile, --insecure need a TLS broker URL"):
        settings(flagged, {})
    quiet = settings(parse("pub", "t", "x", "--broker", "mqtt://h"), {"MQCHAT_INSECURE": "1"})
    assert quiet.tls == TlsOptions()
    insecure = settings(parse("pub", "t", "x", "--broker", "mqtts://h"), {"MQCHAT_INSECURE": "1"})
    assert insecure.tls.insecure and insecure.broker_label == "h:8883 (TLS, NOT VERIFIED)"


def test_an_unknown_version_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "bob", "x", "--user", "alice", "--mqtt-version", "4"]) == 2
    assert capsys.readouterr().err == "mqchat: unknown MQTT version '4'; use 5 or 3.1.1\n"


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["chat"], {}, "no user name: give --user NAME (MQCHAT_USER, or a profile's user)"),
        (["send", "bob", "hi"], {}, "no user name: give --user NAME"),
        (["history", "bob"], {}, "no user name: give --user NAME"),
        ([], {"MQCHAT_KEEPALIVE": "often"}, "the keepalive is 5 to 65535 seconds, not 'often'"),
        (["chat", "--user", "a"], {"MQCHAT_NAMESPACE": "#"}, "invalid namespace '#'"),
    ],
)
def test_settings_errors_exit_2_in_one_line_before_anything_runs(
    argv: list[str],
    env: dict[str, str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for key in [k for k in os.environ if k.startswith("MQCHAT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MQCHAT_CONFIG", str(tmp_path / "none.toml"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mqchat: {says}") and err.count("\n") == 1
