"""Parsing of broker URLs (``mqtt://``, ``mqtts://``, ``ws://``, ``wss://``) into
something a connection can use. Credentials in a URL are kept but never shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_BROKER",
    "DEFAULT_WEBSOCKET_PATH",
    "BrokerUrl",
    "BrokerUrlError",
    "has_password",
    "parse_broker_url",
]

DEFAULT_BROKER = "mqtt://localhost:1883"
DEFAULT_WEBSOCKET_PATH = "/mqtt"
"""What MQTTX, EMQX, HiveMQ and most brokers serve MQTT over WebSockets on; mosquitto
accepts any path."""

# scheme as typed -> (scheme as kept, default port)
_SCHEMES = {
    "mqtt": ("mqtt", 1883),
    "tcp": ("mqtt", 1883),
    "mqtts": ("mqtts", 8883),
    "ws": ("ws", 80),
    "wss": ("wss", 443),
}
_EXPECTED = "mqtt://, mqtts://, ws:// or wss://"


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    scheme: str
    """``mqtt``, ``mqtts`` (TLS), ``ws`` (WebSocket) or ``wss`` (WebSocket over TLS)."""
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    path: str = ""
    """The HTTP path of a WebSocket connection (``/mqtt`` unless the URL says); empty
    for ``mqtt``/``mqtts``."""

    @property
    def tls(self) -> bool:
        """The connection is encrypted (``mqtts``, ``wss``)."""
        return self.scheme in ("mqtts", "wss")

    @property
    def websocket(self) -> bool:
        """MQTT is carried in WebSocket frames (``ws``, ``wss``)."""
        return self.scheme in ("ws", "wss")

    @property
    def label(self) -> str:
        """``host:port``, never the credentials: safe to show and to log."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        """The URL without its credentials; parsing it again gives the same place."""
        return f"{self.scheme}://{self.label}{self.path}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse ``SCHEME://[user[:password]@]host[:port][/path]``; a bare
    ``host[:port]`` is taken as ``mqtt://``. A path is for ``ws``/``wss`` only."""
    text = url.strip()
    if not text:
        raise BrokerUrlError("the broker URL is empty (expected mqtt://host[:port])")
    if "://" not in text:
        text = "mqtt://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        # urllib's own words may quote a piece of the user info ("cast to integer
        # value as 'pass'" when a password holds a "/"): say it in ours instead.
        said = str(exc).lower()
        if "out of range" in said:
            why = "port out of range 0-65535"
        elif "port" in said:
            why = "the port is not a number"
        else:
            why = "cannot read it"
        raise BrokerUrlError(f"invalid broker URL {_redact(url)!r}: {why}") from None
    known = _SCHEMES.get(parts.scheme.lower())
    if known is None:
        raise BrokerUrlError(
            f"unsupported scheme {parts.scheme.lower()!r} in broker URL {_redact(url)!r} "
            f"(expected {_EXPECTED})"
        )
    scheme, default_port = known
    if not parts.hostname:
        raise BrokerUrlError(f"no host in broker URL {_redact(url)!r}")
    if port == 0:
        raise BrokerUrlError(f"invalid broker URL {_redact(url)!r}: port 0 (ports are 1-65535)")
    problem = _host_problem(parts.hostname)
    if problem:
        raise BrokerUrlError(f"invalid broker URL {_redact(url)!r}: {problem}")
    if parts.query or parts.fragment:
        raise BrokerUrlError(f"unexpected query in broker URL {_redact(url)!r}")
    path = ""
    if scheme in ("ws", "wss"):
        path = parts.path if parts.path not in ("", "/") else DEFAULT_WEBSOCKET_PATH
        if _unprintable(path):
            raise BrokerUrlError(
                f"invalid broker URL {_redact(url)!r}: the path holds {_unprintable(path)}"
            )
    elif parts.path not in ("", "/"):
        raise BrokerUrlError(
            f"unexpected path in broker URL {_redact(url)!r} (a path is for ws:// and wss://)"
        )
    return BrokerUrl(
        scheme=scheme,
        host=parts.hostname,
        port=port if port is not None else default_port,
        username=parts.username or None,
        password=parts.password,
        path=path,
    )


_MAX_HOST = 253
"""The longest DNS name; each of its labels is 1-63 characters."""


def _host_problem(host: str) -> str | None:
    """Why ``host`` cannot be looked up, or ``None``. An IPv6 address (urllib has
    checked its brackets) passes."""
    if ":" in host:
        return None
    if _unprintable(host):
        return f"the host name holds {_unprintable(host)}"
    try:
        ascii_host = host.encode("idna")
    except UnicodeError:
        return "the host name is not a valid DNS name (each part between dots is 1-63 characters)"
    if len(ascii_host.rstrip(b".")) > _MAX_HOST:
        return f"the host name is longer than {_MAX_HOST} characters"
    return None


def _unprintable(text: str) -> str | None:
    """What in ``text`` cannot go into a host name or an HTTP request line."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "bytes that are not UTF-8"
    if any(c.isspace() or not c.isprintable() for c in text):
        return "a space or a control character"
    return None


def has_password(url: str) -> bool:
    """``url`` holds a password (``mqtt://alice:secret@host``), whether or not the
    rest of it can be used. Never raises."""
    text = url.strip()
    try:
        parts = urlsplit(text if "://" in text else "mqtt://" + text)
        _ = parts.port  # may not be a number: the password's "/" cut the URL short
        return parts.password is not None
    except ValueError:
        # Unreadable, maybe because of the password ("mqtt://a:p/w@h"): anything
        # before the last "@" that holds a ":" is taken for user:password.
        userinfo, at, _ = text.partition("://")[2 if "://" in text else 0].rpartition("@")
        return bool(at) and ":" in userinfo


def _redact(url: str) -> str:
    """The URL with any user info removed, for error messages."""
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    if "@" in rest:
        # Everything up to the last "@": a password may hold "@" or "/" unencoded, and
        # over-redacting an error message costs nothing.
        rest = rest.rsplit("@", 1)[1]
    return f"{head}{sep}{rest}"
