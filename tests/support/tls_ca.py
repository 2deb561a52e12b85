"""A throw-away certificate authority for TLS tests: a CA, a server certificate for
127.0.0.1/localhost signed by it, a client certificate signed by it, and (to test
refusals) a second, unrelated CA and an expired server certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsFiles", "make_tls_files"]


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    """The CA certificate that signed the server and client certificates."""
    server_cert: Path
    server_key: Path
    """For ``localhost`` and IP ``127.0.0.1`` (not for other names)."""
    client_cert: Path
    client_key: Path
    """A client certificate with CN ``client``, signed by :attr:`ca`."""
    other_ca: Path
    """A CA that signed nothing of the above: trusting only it must fail."""
    expired_cert: Path
    expired_key: Path
    """A server certificate signed by :attr:`ca` whose validity ended in the past."""


_Key = ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: _Key) -> Path:
    (folder / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path = folder / f"{stem}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _certificate(
    cn: str,
    key: _Key,
    *,
    issuer: tuple[x509.Name, _Key] | None = None,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    expired: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=10), now - dt.timedelta(days=9))
        if expired
        else (
            now - dt.timedelta(hours=1),
            now + dt.timedelta(days=2),
        )
    )
    issuer_name, signer = issuer if issuer is not None else (_name(cn), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is ExtendedKeyUsageOID.SERVER_AUTH:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    return builder.sign(signer, hashes.SHA256())


def make_tls_files(folder: Path) -> TlsFiles:
    """Make the files in ``folder`` (created); a few milliseconds."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _write(folder, "ca", _certificate("mqchat test CA", ca_key, ca=True), ca_key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _write(folder, "other-ca", _certificate("other CA", other_key, ca=True), other_key)
    issuer = (_name("mqchat test CA"), ca_key)
    made: dict[str, Path] = {}
    for stem, cn, usage, expired in (
        ("server", "localhost", ExtendedKeyUsageOID.SERVER_AUTH, False),
        ("client", "client", ExtendedKeyUsageOID.CLIENT_AUTH, False),
        ("expired", "localhost", ExtendedKeyUsageOID.SERVER_AUTH, True),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(cn, key, issuer=issuer, usage=usage, expired=expired)
        made[stem] = _write(folder, stem, cert, key)
    return TlsFiles(
        ca=ca,
        server_cert=made["server"],
        server_key=folder / "server.key",
        client_cert=made["client"],
        client_key=folder / "client.key",
        other_ca=other,
        expired_cert=made["expired"],
        expired_key=folder / "expired.key",
    )
