"""The deployment kit: the mosquitto ACL that keeps senders honest (docs/protocol.md#acl) and
a complete, commented mosquitto.conf for a server mqchat users share. Pure text, so
``mqchat broker-config`` only prints it and the tests start mosquitto on it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from mqchat.core.topics import DEFAULT_NAMESPACE, validate_namespace

__all__ = [
    "DEFAULT_ACL_FILE",
    "DEFAULT_PASSWORD_FILE",
    "DEFAULT_PERSISTENCE_LOCATION",
    "MQTTS_PORT",
    "MQTT_PORT",
    "BrokerConfigError",
    "ListenerTls",
    "MosquittoConfig",
    "acl_rules",
    "check_config_namespace",
    "render_acl",
    "render_mosquitto_conf",
]

MQTT_PORT, MQTTS_PORT = 1883, 8883
DEFAULT_PASSWORD_FILE = "/etc/mosquitto/passwd"
DEFAULT_ACL_FILE = "/etc/mosquitto/mqchat.acl"
DEFAULT_PERSISTENCE_LOCATION = "/var/lib/mosquitto/"  # where Debian's package keeps it

_HOST = re.compile(r"[A-Za-z0-9._:-]+")  # a host name, an IPv4 or a bare IPv6 address


class BrokerConfigError(ValueError):
    """A value that cannot go into a broker configuration, with the reason."""


def check_config_namespace(ns: str) -> str:
    """A namespace that is valid for the chat and can be written into an ACL line."""
    try:
        validate_namespace(ns)
    except ValueError as exc:
        raise BrokerConfigError(str(exc)) from None
    if "%" in ns:
        # mosquitto would replace a "%u" or "%c" inside it with the login or client id
        raise BrokerConfigError(f"invalid namespace {ns!r} for an ACL: no '%'")
    if any(ch.isspace() or not ch.isprintable() for ch in ns):
        raise BrokerConfigError(f"invalid namespace {ns!r} for an ACL: no spaces or control codes")
    return ns


def acl_rules(ns: str = DEFAULT_NAMESPACE) -> list[str]:
    """The twelve rules of docs/protocol.md#acl for ``ns``, as mosquitto ``pattern``
    lines."""
    ns = check_config_namespace(ns)
    return [
        f"pattern write {ns}/u/%u/presence",
        f"pattern write {ns}/u/%u/profile",
        f"pattern write {ns}/u/+/inbox/%u",
        f"pattern write {ns}/u/+/requests/%u",
        f"pattern read  {ns}/u/+/presence",
        f"pattern read  {ns}/u/+/profile",
        f"pattern read  {ns}/u/%u/inbox/#",
        f"pattern read  {ns}/u/%u/requests/+",
        f"pattern write {ns}/u/%u/devices/+",
        f"pattern read  {ns}/u/%u/devices/+",
        f"pattern write {ns}/u/%u/keys/+",
        f"pattern read  {ns}/u/+/keys/+",
    ]


def render_acl(ns: str = DEFAULT_NAMESPACE) -> str:
    """The mosquitto ACL file for namespace ``ns``, every rule explained."""
    (w_presence, w_profile, w_inbox, w_requests, r_presence, r_profile, r_inbox, r_requests) = (
        acl_rules(ns)[:8]
    )
    w_devices, r_devices, w_keys, r_keys = acl_rules(ns)[8:]
    return f"""\
# mosquitto ACL for mqchat, namespace "{ns}".
# Made by: mqchat broker-config acl --namespace {ns}
#
# %u is the user name a client logged in with, so each rule gives every user the
# same rights over their own subtree {ns}/u/<user>/. Whatever no rule grants is
# denied: other users' inboxes, topics outside the namespace, $SYS. mosquitto
# drops a denied PUBLISH (with MQTT 5 the PUBACK says 0x87 "not authorized"); a
# denied SUBSCRIBE is granted all the same but never delivers anything.
# Create logins only with mqchat user names (1-32 of A-Z a-z 0-9 _ . -): %u
# becomes a topic level. After changing this file: systemctl reload mosquitto.

# Your own presence (online/away/offline, retained). Your Will, the "offline"
# the broker sends for you when your connection is lost, goes here too.
{w_presence}

# Your own profile (display name, status text; retained).
{w_profile}

# Messages to anybody, but only under your own name: the last level of an inbox
# topic is the sender, so nobody can send a message as somebody else.
{w_inbox}

# A friend request to anybody, under your own name, retained: one per sender and
# recipient, however many are sent, so requests cannot flood anyone's queue.
{w_requests}

# Everybody's presence and profile: the roster. mosquitto warns at start that
# these two have no %u; they are meant for everybody, and only `pattern` lines
# apply to every user (`topic` lines outside a `user` block: anonymous only).
{r_presence}
{r_profile}

# Your own inbox and friend requests, and nobody else's.
{r_inbox}
{r_requests}

# Your devices' records (protocol v2): only you write and read them.
{w_devices}
{r_devices}

# Your devices' public keys (protocol v3, end-to-end encryption, retained): only
# you write yours; everybody reads everybody's, to seal messages for them.
{w_keys}
{r_keys}
"""


@dataclass(frozen=True, slots=True)
class ListenerTls:
    """Certificate files on the server, for every listener of the config."""

    certfile: str
    """The server certificate, for the host name clients connect to."""
    keyfile: str
    """The server certificate's private key."""
    cafile: str | None = None
    """The CA that signs client certificates; mosquitto uses it only to check them."""
    require_certificate: bool = False
    """Clients must also present a certificate signed by ``cafile`` (required then)."""


@dataclass(frozen=True, slots=True)
class MosquittoConfig:
    """What a deployment chooses; everything else in the rendered file is fixed."""

    port: int | None = None
    """The MQTT listener: 1883 by default, 8883 with TLS."""
    bind: str | None = None
    """Listen on this address only; all interfaces when ``None``."""
    tls: ListenerTls | None = None
    websockets_port: int | None = None
    """A second listener speaking MQTT over WebSockets (TLS too when ``tls`` is set)."""
    password_file: str = DEFAULT_PASSWORD_FILE
    acl_file: str = DEFAULT_ACL_FILE
    persistence_location: str = DEFAULT_PERSISTENCE_LOCATION
    namespace: str = DEFAULT_NAMESPACE
    """Only named in the comments: the ACL file holds the namespace."""
    max_queued_messages: int = 10_000
    max_inflight_messages: int = 100

    @property
    def listen_port(self) -> int:
        if self.port is not None:
            return self.port
        return MQTTS_PORT if self.tls else MQTT_PORT


def _check_port(port: int, what: str) -> None:
    if not 0 < port < 65536:
        raise BrokerConfigError(f"{what} must be 1 to 65535, not {port}")


def _check_path(path: str, what: str) -> str:
    if not path or any(not ch.isprintable() for ch in path) or path != path.strip():
        raise BrokerConfigError(f"{what} {path!r}: not a usable file name")
    if not (PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()):
        # a service starts in / (or anywhere): a relative name would point elsewhere
        raise BrokerConfigError(f"{what} {path!r}: give an absolute path")
    return path


def _check(config: MosquittoConfig) -> None:
    check_config_namespace(config.namespace)
    _check_port(config.listen_port, "the port")
    if config.websockets_port is not None:
        _check_port(config.websockets_port, "the websockets port")
        if config.websockets_port == config.listen_port:
            raise BrokerConfigError("the websockets port must differ from the MQTT port")
    if config.bind is not None and not _HOST.fullmatch(config.bind):
        raise BrokerConfigError(f"bind address {config.bind!r}: expected an IP address or host")
    _check_path(config.password_file, "password file")
    _check_path(config.acl_file, "ACL file")
    _check_path(config.persistence_location, "persistence location")
    if config.tls is not None:
        _check_path(config.tls.certfile, "certificate file")
        _check_path(config.tls.keyfile, "key file")
        if config.tls.cafile is not None:
            _check_path(config.tls.cafile, "CA file")
        elif config.tls.require_certificate:
            raise BrokerConfigError("client certificates need the CA file that signs them")
    for value, what in (
        (config.max_queued_messages, "max_queued_messages"),
        (config.max_inflight_messages, "max_inflight_messages"),
    ):
        if value < 1:
            raise BrokerConfigError(f"{what} must be 1 or more, not {value}")


def _listener(port: int, bind: str | None) -> str:
    return f"listener {port} {bind}" if bind else f"listener {port}"


def _tls_lines(tls: ListenerTls | None) -> str:
    if tls is None:
        return ""
    lines = [f"cafile {tls.cafile}"] if tls.cafile else []
    lines += [f"certfile {tls.certfile}", f"keyfile {tls.keyfile}", "tls_version tlsv1.2"]
    if tls.require_certificate:
        lines.append("require_certificate true")
    return "\n".join(lines) + "\n"


_TLS_COMMENT = """\
# TLS. certfile is the server certificate for the host name clients connect to
# (intermediate certificates appended), keyfile its private key: both must be
# readable by the user mosquitto runs as (`mosquitto` on Debian), the key by
# nobody else. tls_version tlsv1.2 refuses TLS 1.0/1.1; TLS 1.3 is still used
# whenever the client has it.
"""

_CA_COMMENT = """\
# cafile is the CA that signs client certificates, only used to check them.
"""

_CLIENT_CERT_COMMENT = """\
# require_certificate: a client must also show a certificate signed by that CA;
# it still logs in with its password as well.
"""


def render_mosquitto_conf(config: MosquittoConfig | None = None) -> str:
    """A complete, commented mosquitto.conf (mosquitto 2.0 or newer). Raises
    :class:`BrokerConfigError` naming the first bad value."""
    config = config or MosquittoConfig()
    _check(config)
    tls, port, ns = config.tls, config.listen_port, config.namespace
    where = f"on {config.bind}" if config.bind else "on every interface"
    scheme = "mqtts" if tls else "mqtt"
    listener = f"# MQTT ({scheme}://HOST:{port}) {where}.\n{_listener(port, config.bind)}\n"
    if tls:
        listener += _TLS_COMMENT + (_CA_COMMENT if tls.cafile else "")
        listener += _CLIENT_CERT_COMMENT if tls.require_certificate else ""
        listener += _tls_lines(tls)
    if config.websockets_port is not None:
        ws = "wss" if tls else "ws"
        same_tls = "# It has the same TLS settings as the listener above.\n" if tls else ""
        listener += f"""
# MQTT over WebSockets ({ws}://HOST:{config.websockets_port}), for networks that let only HTTP(S)
# through. mosquitto 2.0 binds it to every interface, whatever address is
# given (keep it private with a firewall), and cannot run it without the MQTT
# listener above.
{same_tls}{_listener(config.websockets_port, config.bind)}
protocol websockets
{_tls_lines(tls)}"""
    return f"""\
# mosquitto.conf for an mqchat server (mosquitto 2.0 or newer).
# Made by: mqchat broker-config mosquitto
# A complete configuration: run `mosquitto -c THIS_FILE`, or put it in place of
# /etc/mosquitto/mosquitto.conf (not in conf.d/: the packaged file sets
# persistence_location too, and mosquitto refuses a value given twice).

# Logins, ACL and limits below apply to every listener alike: with per-listener
# settings, a listener added later would be open to anyone.
per_listener_settings false

{listener}
# Nobody without a login. Create the password file with the first user (it asks
# for the password; -c replaces an existing file), then add the others:
#   mosquitto_passwd -c {config.password_file} alice
#   mosquitto_passwd {config.password_file} bob
# Use mqchat user names (1-32 of A-Z a-z 0-9 _ . -): the ACL makes them topic
# levels. After a change: systemctl reload mosquitto (or kill -HUP its pid).
allow_anonymous false
password_file {config.password_file}

# Who may publish and read what: nobody can send as somebody else or read
# another user's inbox. Write the file with:
#   mqchat broker-config acl --namespace {ns} > {config.acl_file}
acl_file {config.acl_file}

# Sessions and queued messages survive a restart. mosquitto writes them when it
# stops and every autosave_interval seconds: a crash loses at most that much.
persistence true
persistence_location {config.persistence_location.rstrip("/")}/
autosave_interval 300

# Messages kept for one user who is away (or slow). Beyond this mosquitto drops
# new ones without telling anybody; its default, 1000, is soon reached by a user
# away for a weekend from busy friends.
max_queued_messages {config.max_queued_messages}

# QoS 1 messages sent to one client before it acknowledges them. mqchat
# acknowledges each once it is stored, so a returning user's backlog arrives
# faster with more in flight than the default 20.
max_inflight_messages {config.max_inflight_messages}

# Chat is small packets, each answered before the next: without this, Nagle's
# algorithm can hold each one back ~40 ms.
set_tcp_nodelay true
"""
