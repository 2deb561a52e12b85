"""Parsing of broker URLs (``mqtt://host[:port]``) into something a connection can use."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["DEFAULT_BROKER", "BrokerUrl", "BrokerUrlError", "parse_broker_url"]

DEFAULT_BROKER = "mqtt://localhost:1883"
_SCHEMES = {"mqtt": 1883, "tcp": 1883}


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """``host:port``, never the credentials: safe to show and to log."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.label}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse ``mqtt://[user[:password]@]host[:port]``; a bare ``host[:port]`` is
    taken as ``mqtt://``."""
    text = url.strip()
    if not text:
        raise BrokerUrlError("the broker URL is empty (expected mqtt://host[:port])")
    if "://" not in text:
        text = "mqtt://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise BrokerUrlError(f"invalid broker URL {_redact(url)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise BrokerUrlError(
            f"unsupported scheme {scheme!r} in broker URL {_redact(url)!r} (expected mqtt://)"
        )
    if not parts.hostname:
        raise BrokerUrlError(f"no host in broker URL {_redact(url)!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BrokerUrlError(f"unexpected path or query in broker URL {_redact(url)!r}")
    return BrokerUrl(
        scheme="mqtt",
        host=parts.hostname,
        port=port if port is not None else _SCHEMES[scheme],
        username=parts.username or None,
        password=parts.password,
    )


def _redact(url: str) -> str:
    """The URL with any user info removed, for error messages."""
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    if "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{head}{sep}{rest}"
