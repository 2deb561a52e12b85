"""The deployment kit's text, without a broker: the ACL is docs/protocol.md#acl's, the
mosquitto.conf has every directive a deployment needs, and bad values are refused
with a reason (``mqchat broker-config``: one line, exit 2). tests/broker/test_deploy_broker.py
starts mosquitto on the same text."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mqchat.broker.deploy_config import (
    BrokerConfigError,
    ListenerTls,
    MosquittoConfig,
    acl_rules,
    render_acl,
    render_mosquitto_conf,
)
from mqchat.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

TLS = ListenerTls("/etc/mosquitto/server.crt", "/etc/mosquitto/server.key")
CA = "/etc/mosquitto/ca.crt"


def paragraphs(text: str) -> list[list[str]]:
    """Runs of lines between blank lines."""
    return [block.splitlines() for block in text.split("\n\n") if block.strip()]


def directives(text: str) -> list[str]:
    """The lines mosquitto reads (not comments, not blank), spaces normalised."""
    return [
        " ".join(line.split())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_acl_rules_are_the_designs() -> None:
    expected = [
        "pattern write {ns}/u/%u/presence",
        "pattern write {ns}/u/%u/profile",
        "pattern write {ns}/u/+/inbox/%u",
        "pattern write {ns}/u/+/requests/%u",
        "pattern read  {ns}/u/+/presence",
        "pattern read  {ns}/u/+/profile",
        "pattern read  {ns}/u/%u/inbox/#",
        "pattern read  {ns}/u/%u/requests/+",
        "pattern write {ns}/u/%u/devices/+",
        "pattern read  {ns}/u/%u/devices/+",
        "pattern write {ns}/u/%u/keys/+",
        "pattern read  {ns}/u/+/keys/+",
    ]
    assert acl_rules() == [rule.format(ns="mqchat") for rule in expected]
    assert acl_rules("acme/chat") == [rule.format(ns="acme/chat") for rule in expected]


def test_acl_file_is_the_rules_each_explained() -> None:
    text = render_acl("acme/chat")
    assert directives(text) == [" ".join(rule.split()) for rule in acl_rules("acme/chat")]
    for block in paragraphs(text):
        assert block[0].startswith("#"), f"no comment explains {block}"
    assert "--namespace acme/chat" in text
    assert text.endswith("\n")


@pytest.mark.parametrize(
    "ns",
    ["", "a/+", "#", "a/#", "$SYS", "/a", "a/", "a//b", "a%ub", "has space", "a\nb", "nul\x00"],
)
def test_unusable_namespaces_are_refused(ns: str) -> None:
    with pytest.raises(BrokerConfigError, match="namespace"):
        render_acl(ns)
    with pytest.raises(BrokerConfigError, match="namespace"):
        render_mosquitto_conf(MosquittoConfig(namespace=ns))


def test_default_config() -> None:
    lines = directives(render_mosquitto_conf())
    assert lines == [
        "per_listener_settings false",
        "listener 1883",
        "allow_anonymous false",
        "password_file /etc/mosquitto/passwd",
        "acl_file /etc/mosquitto/mqchat.acl",
        "persistence true",
        "persistence_location /var/lib/mosquitto/",
        "autosave_interval 300",
        "max_queued_messages 10000",
        "max_inflight_messages 100",
        "set_tcp_nodelay true",
    ]


def test_every_directive_is_explained() -> None:
    tls = ListenerTls(TLS.certfile, TLS.keyfile, cafile=CA, require_certificate=True)
    text = render_mosquitto_conf(MosquittoConfig(tls=tls, websockets_port=8081))
    for block in paragraphs(text):
        assert block[0].startswith("#"), f"no comment explains {block}"
    assert "mosquitto_passwd -c /etc/mosquitto/passwd alice" in text
    assert "mqchat broker-config acl --namespace mqchat > /etc/mosquitto/mqchat.acl" in text


def test_tls_and_websockets() -> None:
    config = MosquittoConfig(
        bind="10.0.0.5",
        tls=ListenerTls(TLS.certfile, TLS.keyfile, cafile=CA, require_certificate=True),
        websockets_port=8081,
        password_file="/srv/mq/passwd",
        acl_file="/srv/mq/acl",
    )
    lines = directives(render_mosquitto_conf(config))
    tls = [
        "cafile /etc/mosquitto/ca.crt",
        "certfile /etc/mosquitto/server.crt",
        "keyfile /etc/mosquitto/server.key",
        "tls_version tlsv1.2",
        "require_certificate true",
    ]
    mqtt, ws = lines.index("listener 8883 10.0.0.5"), lines.index("listener 8081 10.0.0.5")
    # TLS options belong to the listener above them: both listeners get all of them
    assert lines[mqtt + 1 : mqtt + 6] == tls
    assert lines[ws + 1 : ws + 7] == ["protocol websockets", *tls]
    assert "password_file /srv/mq/passwd" in lines and "acl_file /srv/mq/acl" in lines


def test_tls_without_client_certificates_and_explicit_port() -> None:
    text = render_mosquitto_conf(MosquittoConfig(port=443, tls=TLS))
    lines = directives(text)
    assert "listener 443" in lines and "tls_version tlsv1.2" in lines
    assert not any(line.startswith(("require_certificate", "cafile")) for line in lines)
    assert "mqtts://HOST:443" in text


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (MosquittoConfig(port=0), "port must be 1 to 65535"),
        (MosquittoConfig(port=70000), "port must be 1 to 65535"),
        (MosquittoConfig(websockets_port=1883), "must differ"),
        (MosquittoConfig(websockets_port=-1), "websockets port"),
        (MosquittoConfig(bind="0.0.0.0\npassword_file /tmp/x"), "bind address"),
        (MosquittoConfig(bind="a b"), "bind address"),
        (MosquittoConfig(password_file="passwd"), "absolute path"),
        (MosquittoConfig(acl_file="/etc/acl\nallow_anonymous true"), "ACL file"),
        (MosquittoConfig(acl_file=""), "ACL file"),
        (MosquittoConfig(tls=ListenerTls("/s.crt", "/s.key", cafile="ca.crt")), "CA file"),
        (MosquittoConfig(tls=ListenerTls("s.crt", "/s.key")), "certificate file"),
        (MosquittoConfig(tls=ListenerTls("/s.crt", "/s.key", require_certificate=True)), "CA"),
        (MosquittoConfig(max_queued_messages=0), "max_queued_messages"),
    ],
)
def test_bad_values_are_refused(config: MosquittoConfig, reason: str) -> None:
    with pytest.raises(BrokerConfigError, match=re.escape(reason)):
        render_mosquitto_conf(config)


def test_cli_prints_the_acl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["broker-config", "acl", "--namespace", "acme"]) == 0
    out = capsys.readouterr()
    assert out.out == render_acl("acme") and out.err == ""


def test_cli_prints_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "broker-config", "mosquitto", "--port", "8884", "--bind", "127.0.0.1", "--tls",
        "--cafile", "/c/ca.crt", "--certfile", "/c/s.crt", "--keyfile", "/c/s.key",
        "--require-certificate", "--websockets-port", "8081",
        "--password-file", "/p", "--acl-file", "/a", "--namespace", "acme",
    ]  # fmt: skip
    assert main(argv) == 0
    expected = MosquittoConfig(
        port=8884,
        bind="127.0.0.1",
        tls=ListenerTls("/c/s.crt", "/c/s.key", cafile="/c/ca.crt", require_certificate=True),
        websockets_port=8081,
        password_file="/p",
        acl_file="/a",
        namespace="acme",
    )
    out = capsys.readouterr()
    assert out.out == render_mosquitto_conf(expected) and out.err == ""


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["mosquitto", "--port", "x"], "--port must be a port number"),
        (["mosquitto", "--port", "0"], "--port must be a port number"),
        (["mosquitto", "--websockets-port", "99999"], "--websockets-port must be"),
        (["mosquitto", "--cafile", "/ca"], "TLS options without --tls: --cafile"),
        (["mosquitto", "--require-certificate"], "without --tls: --require-certificate"),
        (["mosquitto", "--tls", "--cafile", "/ca"], "--tls needs --certfile, --keyfile"),
        (
            ["mosquitto", "--tls", "--certfile", "/c", "--keyfile", "/k", "--require-certificate"],
            "--require-certificate needs --cafile",
        ),
        (["mosquitto", "--password-file", "passwd"], "absolute path"),
        (["mosquitto", "--namespace", "a/#"], "invalid namespace"),
        (["acl", "--namespace", "$SYS"], "invalid namespace"),
    ],
)
def test_cli_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["broker-config", *argv]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1 and reason in out.err, out.err


def test_the_installed_command_runs_without_heavy_imports() -> None:
    code = (
        "import sys; from mqchat.cli.main import main; rc = main(['broker-config', 'acl']); "
        "assert not {'textual', 'aiomqtt', 'sqlalchemy', 'paho'} & set(sys.modules); "
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_acl()
