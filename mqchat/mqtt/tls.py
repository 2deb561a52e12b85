"""TLS for broker connections: the ``ssl`` context made from :class:`TlsOptions`, and
what went wrong in a handshake in words a person can act on."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator

from mqchat.config.tls_options import TlsOptions

__all__ = [
    "NOT_TLS",
    "UNTRUSTED",
    "TlsSetupError",
    "certificate_problem",
    "handshake_problem",
    "ssl_context",
    "tls_problem",
]

# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code.
_NOT_YET_VALID, _EXPIRED = 9, 10
_HOST_MISMATCH = {62, 64}  # host name; IP address
# unable to get issuer certificate (2), self-signed leaf (18), self-signed CA in the
# chain (19), unable to get local issuer (20), cannot verify the first certificate
# (21), certificate not trusted for this purpose (27)
_UNTRUSTED = {2, 18, 19, 20, 21, 27}

UNTRUSTED = "the broker's certificate is not trusted (self-signed or unknown CA); pass --cafile"
NOT_TLS = (
    "the broker closed the connection during the TLS handshake: is this a plain port? "
    "(plain MQTT is mqtt://, plain WebSocket ws://)"
)

# OpenSSL reasons (ssl.SSLError.reason, or "[SSL: REASON]" in a message) -> words.
_HANDSHAKE = {
    "WRONG_VERSION_NUMBER": NOT_TLS,
    "UNEXPECTED_EOF_WHILE_READING": NOT_TLS,
    "RECORD_LAYER_FAILURE": NOT_TLS,
    "PACKET_LENGTH_TOO_LONG": NOT_TLS,
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": (
        "the broker wants a client certificate; pass --certfile and --keyfile"
    ),
    "SSLV3_ALERT_HANDSHAKE_FAILURE": (
        "the broker refused the TLS handshake (does it want a client certificate? pass "
        "--certfile and --keyfile)"
    ),
    "TLSV1_ALERT_UNKNOWN_CA": "the broker does not trust our client certificate (unknown CA)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the broker refused our client certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the broker refused our client certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the broker says our client certificate has expired",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the broker and mqchat share no TLS version",
}
_REASON_IN_TEXT = re.compile(r"\[SSL: ([A-Z0-9_]+)\]")


class TlsSetupError(ValueError):
    """The TLS files cannot be used (missing, unreadable, not PEM, or a key that does
    not fit its certificate); the message names the file and says why."""


class _EncryptedKey(Exception):
    pass


def _refuse_passphrase() -> str:
    # Without a callback OpenSSL would prompt on the terminal, hanging a script.
    raise _EncryptedKey


def ssl_context(options: TlsOptions) -> ssl.SSLContext:
    """A client context: the system's CAs (or only ``options.cafile``), certificate
    and host name checked, a client certificate when given; no checks at all with
    ``options.insecure``. Raises :class:`TlsSetupError`."""
    cafile = str(options.cafile) if options.cafile else None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except OSError as exc:
        raise _file_error("CA file", options.cafile, exc) from None
    if options.certfile is not None:
        try:
            context.load_cert_chain(options.certfile, options.keyfile, password=_refuse_passphrase)
        except _EncryptedKey:
            raise TlsSetupError(
                f"the key file {_name(options.keyfile or options.certfile)} is protected by "
                "a passphrase; mqchat needs an unencrypted key"
            ) from None
        except OSError as exc:
            what = "client certificate or key" if options.keyfile else "client certificate"
            raise _file_error(what, options.certfile, exc, options.keyfile) from None
    elif options.keyfile is not None:
        raise TlsSetupError("a key file needs its certificate: pass --certfile too")
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _name(path: object) -> str:
    return repr(str(path))


def _file_error(what: str, path: object, exc: OSError, other: object = None) -> TlsSetupError:
    if isinstance(exc, ssl.SSLError):
        files = f"{_name(path)} and {_name(other)}" if other else _name(path)
        if exc.reason == "KEY_VALUES_MISMATCH":
            return TlsSetupError(f"the client key does not belong to the certificate ({files})")
        return TlsSetupError(f"the {what} {files} is not usable PEM ({exc.reason or exc})")
    return TlsSetupError(f"cannot read the {what} {_name(exc.filename or path)}: {exc.strerror}")


def certificate_problem(verify_code: int, verify_message: str, host: str) -> str:
    """What a failed certificate check means, from OpenSSL's verify code (as on
    :class:`ssl.SSLCertVerificationError`) and message."""
    if verify_code == _EXPIRED:
        return "the broker's certificate has expired"
    if verify_code == _NOT_YET_VALID:
        return "the broker's certificate is not valid yet (is this computer's clock right?)"
    if verify_code in _HOST_MISMATCH:
        return (
            f"the broker's certificate is not for {host!r} (hostname mismatch); connect "
            "with a name the certificate lists"
        )
    if verify_code in _UNTRUSTED:
        return UNTRUSTED
    return f"the broker's certificate was refused: {verify_message or f'error {verify_code}'}"


def handshake_problem(reason: str) -> str | None:
    """The words for an OpenSSL reason such as ``TLSV13_ALERT_CERTIFICATE_REQUIRED``;
    ``None`` for one that says nothing a person could act on."""
    return _HANDSHAKE.get(reason)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        # aiomqtt re-raises paho's OSError as MqttError(str(exc)) "from None": the
        # original is still its __context__.
        exc = exc.__cause__ or exc.__context__


def tls_problem(exc: BaseException, host: str, detail: str | None = None) -> str | None:
    """What went wrong in the TLS layer, if that is why connecting failed: a
    certificate check (found anywhere in ``exc``'s chain) or a handshake reason (on
    an :class:`ssl.SSLError`, or as ``[SSL: REASON]`` in its text or in ``detail``,
    paho's logged reason for a lost socket)."""
    texts = [detail] if detail else []
    for error in _chain(exc):
        if isinstance(error, ssl.SSLCertVerificationError):
            return certificate_problem(error.verify_code, error.verify_message or "", host)
        if isinstance(error, ssl.SSLError):
            if error.reason:
                texts.insert(0, f"[SSL: {error.reason}]")
            elif isinstance(error, ssl.SSLEOFError):
                return NOT_TLS
        texts.append(str(error))
    for text in texts:
        match = _REASON_IN_TEXT.search(text)
        if match is None:
            continue
        if match.group(1) == "CERTIFICATE_VERIFY_FAILED":  # only the text survived
            said = text.split("certificate verify failed:", 1)[-1].split(" (_ssl", 1)[0]
            return f"the broker's certificate was refused: {said.strip()}"
        problem = handshake_problem(match.group(1))
        if problem is not None:
            return problem
    return None
