"""The settings loader on its own, with a dict as the environment: profile file <
``MQCHAT_*`` < flags for every setting, the login form and a profile picked on the
screen above them, and the environment only ever read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from mqchat.config.loader import (
    Layer,
    Origin,
    SettingsError,
    build_settings,
    choose_profile,
    default_config_path,
    load_settings,
    picked_profile,
    standard_layers,
)
from mqchat.config.profiles import ConfigError, Profile, save_profile
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions


@dataclass(frozen=True)
class Row:
    """One setting: what the profile, the environment and a flag say, and what the
    settings hold after each layer is added."""

    name: str
    read: Callable[[Settings], object]
    file: dict[str, Any]
    env: dict[str, str]
    flags: dict[str, Any] | None
    expected: tuple[object, ...]
    """After the file, after the environment, after the flags."""
    base: dict[str, Any] = field(default_factory=dict)
    """Profile keys every step needs (a TLS URL for the TLS options)."""


TLS = {"broker": "mqtts://h"}
ROWS = [
    Row(
        "broker",
        lambda s: s.broker.label,
        {"broker": "mqtt://file.example:1111"},
        {"MQCHAT_BROKER": "env.example:2222"},
        {"broker": "ws://flag.example:3333"},
        ("file.example:1111", "env.example:2222", "flag.example:3333"),
    ),
    Row(
        "user",
        lambda s: s.user,
        {"user": "fileuser"},
        {"MQCHAT_USER": "envuser"},
        {"user": "flaguser"},
        ("fileuser", "envuser", "flaguser"),
    ),
    Row(
        "display_name",
        lambda s: s.display_name,
        {"display_name": "File Name"},
        {"MQCHAT_NAME": "Env Name"},
        {"display_name": "Flag Name"},
        ("File Name", "Env Name", "Flag Name"),
    ),
    Row(
        "session_expiry",
        lambda s: s.session_expiry,
        {"session_expiry": "1h"},
        {"MQCHAT_SESSION_EXPIRY": "2h"},
        {"session_expiry": "10800"},
        (3600, 7200, 10800),
    ),
    Row(
        "mqtt_version",
        lambda s: s.mqtt_version,
        {"mqtt_version": "3.1.1"},
        {"MQCHAT_MQTT_VERSION": "mqttv5"},
        {"mqtt_version": "311"},
        ("3.1.1", "5", "3.1.1"),
    ),
    Row(
        "cafile",
        lambda s: s.tls.cafile,
        {"cafile": "/file/ca.pem"},
        {"MQCHAT_CAFILE": "/env/ca.pem"},
        {"cafile": Path("/flag/ca.pem")},
        (Path("/file/ca.pem"), Path("/env/ca.pem"), Path("/flag/ca.pem")),
        base=TLS,
    ),
    Row(
        "certfile",
        lambda s: s.tls.certfile,
        {"certfile": "/file/c.pem"},
        {"MQCHAT_CERTFILE": "/env/c.pem"},
        {"certfile": Path("/flag/c.pem")},
        (Path("/file/c.pem"), Path("/env/c.pem"), Path("/flag/c.pem")),
        base=TLS,
    ),
    Row(
        "keyfile",
        lambda s: s.tls.keyfile,
        {"keyfile": "/file/c.key"},
        {"MQCHAT_KEYFILE": "/env/c.key"},
        {"keyfile": Path("/flag/c.key")},
        (Path("/file/c.key"), Path("/env/c.key"), Path("/flag/c.key")),
        base=TLS,
    ),
    Row(
        "insecure",
        lambda s: s.tls.insecure,
        {"insecure": True},
        {"MQCHAT_INSECURE": "off"},
        {"insecure": True},
        (True, False, True),
        base=TLS,
    ),
    # No flag for these two: the profile and the environment set them.
    Row(
        "namespace",
        lambda s: s.namespace,
        {"namespace": "file/ns"},
        {"MQCHAT_NAMESPACE": "env/ns"},
        None,
        ("file/ns", "env/ns"),
    ),
    Row(
        "keepalive",
        lambda s: s.keepalive,
        {"keepalive": 30},
        {"MQCHAT_KEEPALIVE": "45"},
        None,
        (30, 45),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_file_then_environment_then_flags(row: Row) -> None:
    profile = Profile(**{**row.base, **row.file})

    def settings(env: dict[str, str], flags: dict[str, Any] | None) -> object:
        layer = Layer(Origin.FLAGS, **(flags or {}))
        return row.read(load_settings(layer, profile=profile, environ=env, chat_user=False))

    assert settings({}, None) == row.expected[0]
    assert settings(row.env, None) == row.expected[1]
    if row.flags is not None:
        assert settings(row.env, row.flags) == row.expected[2]
        assert settings({}, row.flags) == row.expected[2]


def test_data_dir_from_the_environment_then_the_flag() -> None:
    env = {"MQCHAT_DATA_DIR": "/env/data"}
    assert load_settings(environ={"MQCHAT_USER": "a"}).data_dir.name == "mqchat"  # the platform's
    assert load_settings(Layer(Origin.FLAGS, user="a"), environ=env).data_dir == Path("/env/data")
    flags = Layer(Origin.FLAGS, user="a", data_dir=Path("/flag/data"))
    assert load_settings(flags, environ=env).data_dir == Path("/flag/data")


def test_the_password_comes_from_the_environment_into_the_settings() -> None:
    env = {"MQCHAT_USER": "alice", "MQCHAT_PASSWORD": "env-pw"}
    settings = load_settings(environ=env)
    assert settings.password == "env-pw" and settings.mqtt_password == "env-pw"
    with_url = load_settings(Layer(Origin.FLAGS, broker="mqtt://bob:url-pw@h"), environ=env)
    assert with_url.mqtt_password == "env-pw"  # the environment's, over the URL's
    no_env = load_settings(
        Layer(Origin.FLAGS, broker="mqtt://bob:url-pw@h", user="alice"), environ={}
    )
    assert no_env.password is None and no_env.mqtt_password == "url-pw"
    form = Layer(Origin.FORM, user="alice", password="typed-pw")
    assert build_settings((*standard_layers(Profile(), env), form)).password == "typed-pw"


def test_the_environment_is_only_read_and_empty_variables_set_nothing() -> None:
    env = {"MQCHAT_USER": "alice", "MQCHAT_BROKER": "", "MQCHAT_KEEPALIVE": "20"}
    before = dict(env)
    settings = load_settings(environ=MappingProxyType(env))  # a write would raise
    assert (settings.broker.label, settings.keepalive) == ("localhost:1883", 20)
    assert env == before


def test_a_login_form_is_the_top_layer_even_when_a_field_is_empty() -> None:
    under = standard_layers(Profile(user="fileuser"), {"MQCHAT_NAME": "Env Name"})
    with pytest.raises(SettingsError) as caught:
        build_settings((*under, Layer(Origin.FORM, user="")))
    assert caught.value.field == "user" and "is empty" in str(caught.value)
    cleared = build_settings((*under, Layer(Origin.FORM, user="alice", display_name="")))
    assert cleared.display_name is None  # cleared in the form: not the environment's


def test_a_profile_picked_on_the_screen_goes_over_the_environment_and_the_flags() -> None:
    layers = standard_layers(
        Profile(namespace="cli/ns", keepalive=50),
        {"MQCHAT_BROKER": "mqtt://env.example", "MQCHAT_MQTT_VERSION": "5"},
        Layer(Origin.FLAGS, user="alice", broker="mqtt://flag.example"),
    )
    picked = picked_profile(layers, Profile(broker="mqtt://picked.example", keepalive=40))
    settings = build_settings(picked)
    assert settings.broker.host == "picked.example" and settings.keepalive == 40
    assert settings.namespace == "mqchat"  # the profile it replaced said cli/ns
    assert (settings.user, settings.mqtt_version) == ("alice", "5")  # what it does not say


ALICE = {"MQCHAT_USER": "alice"}


@pytest.mark.parametrize(
    ("env", "says", "field"),
    [
        (
            ALICE | {"MQCHAT_KEEPALIVE": "x"},
            "the keepalive is 5 to 65535 seconds, not 'x'",
            "keepalive",
        ),
        (
            ALICE | {"MQCHAT_KEEPALIVE": "3"},
            "the keepalive is 5 to 65535 seconds, not '3'",
            "keepalive",
        ),
        (
            ALICE | {"MQCHAT_INSECURE": "maybe"},
            "MQCHAT_INSECURE='maybe' is neither yes",
            "insecure",
        ),
        (ALICE | {"MQCHAT_NAMESPACE": "a/#"}, "invalid namespace 'a/#'", "namespace"),
        (
            ALICE | {"MQCHAT_MQTT_VERSION": "4"},
            "unknown MQTT version '4'; use 5 or 3.1.1",
            "mqtt_version",
        ),
        (ALICE | {"MQCHAT_SESSION_EXPIRY": "soon"}, "not a duration: 'soon'", "session_expiry"),
        (ALICE | {"MQCHAT_BROKER": "ftp://h"}, "unsupported scheme 'ftp'", "broker"),
        ({"MQCHAT_USER": "a/b"}, "contains '/'", "user"),
        ({}, "no user name: give --user NAME (MQCHAT_USER, or a profile's user)", "user"),
    ],
)
def test_a_bad_value_says_which_and_why(env: dict[str, str], says: str, field: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=env)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.field == field


def test_a_bad_value_under_a_good_one_is_never_looked_at() -> None:
    env = {"MQCHAT_USER": "alice", "MQCHAT_MQTT_VERSION": "4"}
    assert load_settings(Layer(Origin.FLAGS, mqtt_version="5"), environ=env).mqtt_version == "5"


def test_tls_options_under_a_plain_url_are_left_out_but_tls_flags_are_refused() -> None:
    env = {"MQCHAT_USER": "alice", "MQCHAT_CAFILE": "/ca.pem"}
    assert load_settings(environ=env).tls == TlsOptions()
    assert load_settings(profile=Profile(insecure=True), environ=env).tls == TlsOptions()
    with pytest.raises(SettingsError, match=r"^--cafile needs a TLS broker URL"):
        load_settings(Layer(Origin.FLAGS, cafile=Path("/ca.pem")), environ=env)
    form = build_settings(
        (Layer(Origin.FLAGS, cafile=Path("/ca.pem")), Layer(Origin.FORM, user="alice")),
        strict_tls_flags=False,  # the login form: one may type a TLS URL next
    )
    assert form.tls == TlsOptions()


def test_the_config_file_and_profile_come_from_the_flags_then_the_environment(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    save_profile(path, "work", Profile(user="w"), make_default=True)
    save_profile(path, "home", Profile(user="h"))
    env = {"MQCHAT_CONFIG": str(path)}
    assert default_config_path(env) == path
    assert default_config_path({}).name == "config.toml"
    assert choose_profile(None, None, env).profile.user == "w"
    assert choose_profile(None, None, env | {"MQCHAT_PROFILE": "home"}).profile.user == "h"
    assert choose_profile(path, "work", {"MQCHAT_PROFILE": "home"}).name == "work"
    assert choose_profile(None, None, {"MQCHAT_CONFIG": str(tmp_path / "none.toml")}).name is None
    with pytest.raises(ConfigError, match="no such config file"):
        choose_profile(tmp_path / "none.toml", None, {})
    with pytest.raises(ConfigError, match=r"no profile 'x' \(profiles: home, work\)"):
        choose_profile(None, "x", env)
