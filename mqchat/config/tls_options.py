"""How an ``mqtts://`` or ``wss://`` connection checks the broker and proves who we
are: the CA to trust, a client certificate, or (loudly) no checking at all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["TlsOptions"]


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """TLS settings of a session; used only when the broker URL is ``mqtts``/``wss``.
    The default trusts the system's CAs and checks the certificate and host name."""

    cafile: Path | None = None
    """PEM file of the CA(s) to trust instead of the system's (a private or
    self-signed CA)."""
    certfile: Path | None = None
    """PEM client certificate, for brokers that ask for one (``require_certificate``)."""
    keyfile: Path | None = None
    """PEM private key of :attr:`certfile`, when the certificate file does not hold it."""
    insecure: bool = False
    """Accept any certificate for any host name. Encrypted, but anyone on the path can
    pose as the broker: for tests against a throw-away broker only."""

    @property
    def given(self) -> bool:
        """Anything other than the default was asked for."""
        return self != TlsOptions()
