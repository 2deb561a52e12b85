"""TLS without a broker: the words for each certificate and handshake failure, the
ssl context made from the options, and how the session labels its connection."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiomqtt
import pytest
from cryptography.hazmat.primitives import serialization

from mqchat.config.broker_url import parse_broker_url
from mqchat.config.settings import Settings
from mqchat.config.tls_options import TlsOptions
from mqchat.mqtt.errors import ClosedBeforeConnack, describe_failure
from mqchat.mqtt.protocol import refuses_protocol
from mqchat.mqtt.tls import (
    UNTRUSTED,
    TlsSetupError,
    certificate_problem,
    handshake_problem,
    ssl_context,
    tls_problem,
)
from tests.support.tls_ca import TlsFiles, make_tls_files


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


# --- verify codes -> words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (10, "the broker's certificate has expired"),
        (9, "the broker's certificate is not valid yet (is this computer's clock right?)"),
        (62, "is not for 'broker.example' (hostname mismatch)"),
        (64, "is not for 'broker.example' (hostname mismatch)"),
        (18, UNTRUSTED),
        (19, UNTRUSTED),
        (20, UNTRUSTED),
        (21, UNTRUSTED),
        (23, "the broker's certificate was refused: certificate revoked"),
    ],
)
def test_certificate_problems_in_words(code: int, says: str) -> None:
    assert says in certificate_problem(code, "certificate revoked", "broker.example")


def test_untrusted_tells_what_to_do() -> None:
    assert certificate_problem(19, "", "h") == (
        "the broker's certificate is not trusted (self-signed or unknown CA); pass --cafile"
    )


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "wants a client certificate; pass --certfile"),
        ("WRONG_VERSION_NUMBER", "is this a plain port?"),
        ("TLSV1_ALERT_UNKNOWN_CA", "does not trust our client certificate"),
    ],
)
def test_handshake_reasons_in_words(reason: str, says: str) -> None:
    problem = handshake_problem(reason)
    assert problem is not None and says in problem


def test_handshake_reasons_without_advice_are_left_alone() -> None:
    assert handshake_problem("SOMETHING_ELSE") is None


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"certificate verify failed: {message}")
    error.verify_code, error.verify_message = code, message
    return error


def test_the_certificate_error_is_found_behind_aiomqtts_wrapper() -> None:
    original = _verify_error(10, "certificate has expired")
    try:
        try:
            raise original
        except OSError as exc:
            raise aiomqtt.MqttError(str(exc)) from None  # what aiomqtt does
    except aiomqtt.MqttError as wrapped:
        assert tls_problem(wrapped, "h") == "the broker's certificate has expired"


def test_a_reason_logged_by_paho_is_read_from_the_text() -> None:
    logged = "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required"
    closed = ClosedBeforeConnack(logged)
    assert "wants a client certificate" in (tls_problem(closed, "h", logged) or "")
    assert tls_problem(ClosedBeforeConnack(None), "h") is None
    assert tls_problem(ConnectionRefusedError(111, "Connection refused"), "h") is None


# --- failures: fatal or not, and the MQTT 5 fallback -------------------------------------


def settings(url: str, **kw: object) -> Settings:
    return Settings(broker=parse_broker_url(url), user="alice", **kw)  # type: ignore[arg-type]


def test_a_silent_hang_up_may_mean_no_mqtt_5_but_a_tls_alert_does_not() -> None:
    assert refuses_protocol(ClosedBeforeConnack(None))
    assert refuses_protocol(ClosedBeforeConnack("[Errno 104] Connection reset by peer"))
    assert not refuses_protocol(
        ClosedBeforeConnack("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert")
    )


def test_hang_ups_get_a_hint_for_the_scheme() -> None:
    plain = describe_failure(ClosedBeforeConnack(None), settings("mqtt://h:1"))
    assert plain.reason == (
        "h:1 closed the connection before answering: is it a TLS port (mqtts://) or a "
        "WebSocket port (ws://)?"
    )
    assert not plain.fatal
    tls = describe_failure(ClosedBeforeConnack(None), settings("mqtts://h:2"))
    assert tls.reason.endswith("(after the TLS handshake): is it a WebSocket port (wss://)?")


def test_certificate_failures_are_fatal_and_name_the_broker() -> None:
    failure = describe_failure(
        _verify_error(62, "Hostname mismatch"), settings("mqtts://broker.example")
    )
    assert failure.fatal
    assert failure.reason.startswith("TLS with broker.example:8883 failed: the broker's cert")


def test_a_reset_during_the_handshake_means_a_plain_port() -> None:
    reset = ConnectionResetError(104, "Connection reset by peer")
    assert "is this a plain port?" in describe_failure(reset, settings("mqtts://h")).reason
    # without TLS the same reset says nothing about a handshake
    assert "plain port" not in describe_failure(reset, settings("mqtt://h")).reason


# --- the ssl context ---------------------------------------------------------------------


def test_verification_is_on_by_default(files: TlsFiles) -> None:
    for options in (TlsOptions(), TlsOptions(cafile=files.ca)):
        context = ssl_context(options)
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname


def test_insecure_turns_every_check_off(files: TlsFiles) -> None:
    context = ssl_context(TlsOptions(cafile=files.ca, insecure=True))
    assert context.verify_mode is ssl.CERT_NONE
    assert not context.check_hostname


def test_a_client_certificate_is_loaded(files: TlsFiles) -> None:
    ssl_context(TlsOptions(certfile=files.client_cert, keyfile=files.client_key))


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (TlsOptions(cafile=Path("/no/such/ca.pem")), "cannot read the CA file '/no/such/ca.pem'"),
        (TlsOptions(keyfile=Path("k.pem")), "a key file needs its certificate"),
    ],
)
def test_unusable_files_say_which_and_why(options: TlsOptions, says: str) -> None:
    with pytest.raises(TlsSetupError, match=says):
        ssl_context(options)


def test_a_key_of_another_certificate_or_not_pem(files: TlsFiles, tmp_path: Path) -> None:
    with pytest.raises(TlsSetupError, match="does not belong to the certificate"):
        ssl_context(TlsOptions(certfile=files.client_cert, keyfile=files.server_key))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(TlsSetupError, match="is not usable PEM"):
        ssl_context(TlsOptions(cafile=junk))


def test_an_encrypted_key_is_refused_rather_than_prompted_for(
    files: TlsFiles, tmp_path: Path
) -> None:
    key = serialization.load_pem_private_key(files.client_key.read_bytes(), password=None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    with pytest.raises(TlsSetupError, match="protected by a passphrase"):
        ssl_context(TlsOptions(certfile=files.client_cert, keyfile=locked))


# --- how the session shows its connection ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "tls", "label"),
    [
        ("mqtt://h:1883", TlsOptions(), "h:1883"),
        ("mqtts://h", TlsOptions(), "h:8883 (TLS)"),
        ("mqtts://h", TlsOptions(insecure=True), "h:8883 (TLS, NOT VERIFIED)"),
        ("ws://h", TlsOptions(), "h:80 (WebSocket)"),
        ("wss://u:pw@h/x", TlsOptions(insecure=True), "h:443 (TLS, NOT VERIFIED, WebSocket)"),
        ("mqtt://h:1883", TlsOptions(insecure=True), "h:1883"),  # no TLS, nothing to mark
    ],
)
def test_the_label_says_how_the_connection_travels(url: str, tls: TlsOptions, label: str) -> None:
    assert settings(url, tls=tls).broker_label == label
