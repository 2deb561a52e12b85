"""The inspector's publishes kept for later: the history of those sent (the last
:data:`HISTORY_LIMIT`, newest first) and the named ones saved to resend.

The history lives in the data folder (``publish-history.jsonl``, 0600), not in
``config.toml``: it is written by mqchat on every publish, never by hand; it may hold
payloads a user would not want in a file they edit, share or keep under version
control; and rewriting ``config.toml`` on every publish would churn a file whose
comments and order mqchat promises to keep. Saved publishes are chosen and named by
the user, like profiles: they belong in ``config.toml`` (``[inspector.publishes]``,
see :mod:`mqchat.config.saved_publish`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import msgspec

from mqchat.config.private_files import make_private_dirs, write_private_text
from mqchat.config.profiles import ConfigError, load_config
from mqchat.config.publishes import forget_publish, save_publish
from mqchat.config.saved_publish import SavedPublish
from mqchat.inspector.backend import PublishRequest
from mqchat.inspector.capture import Captured
from mqchat.inspector.payload import PayloadKind, detect

__all__ = [
    "HISTORY_FILE",
    "HISTORY_LIMIT",
    "PREFILL_LIMIT",
    "Publish",
    "PublishBook",
    "PublishHistory",
    "prefill_from",
    "publish_of",
]

HISTORY_LIMIT = 50
"""Publishes the history keeps; the oldest goes first."""
HISTORY_FILE = "publish-history.jsonl"
MAX_ENTRY = 256 * 1024
"""Characters of one history line read at most (a hand-edited file may hold anything)."""


Publish = SavedPublish
"""The publish form's fields as typed (checked when sent, not here): the same shape
whether sent (the history) or saved by name (``config.toml``)."""


def _entry(line: str) -> Publish | None:
    if len(line) > MAX_ENTRY:
        return None
    try:
        publish = msgspec.json.decode(line, type=Publish, strict=True)
    except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
        return None
    return publish if publish.qos in (0, 1, 2) else None


class PublishHistory:
    """The publishes sent, newest first, kept in ``path`` (``None``: for this
    session only). Lines that do not read back as a publish are skipped."""

    def __init__(self, path: Path | None, limit: int = HISTORY_LIMIT) -> None:
        self.path = path
        self.limit = limit
        self.entries: list[Publish] = []
        if path is not None:
            try:
                text = path.read_text("utf-8", errors="surrogateescape")
            except OSError:
                text = ""
            read = [_entry(line) for line in text.splitlines() if line.strip()]
            self.entries = [p for p in reversed(read) if p is not None][:limit]

    def add(self, publish: Publish) -> str | None:
        """Keep ``publish`` as the newest (once: sent again, it moves to the top);
        ``None``, or why the file could not be written (it is kept for the session)."""
        self.entries = [publish, *(p for p in self.entries if p != publish)][: self.limit]
        if self.path is None:
            return None
        lines = [
            json.dumps(msgspec.structs.asdict(p), ensure_ascii=True) for p in reversed(self.entries)
        ]
        try:
            make_private_dirs(self.path.parent)
            partial = self.path.with_name(self.path.name + ".partial")
            write_private_text(partial, "\n".join(lines) + "\n")
            partial.replace(self.path)
        except OSError as exc:
            return f"{self.path}: {exc.strerror or exc}"
        return None


class PublishBook:
    """The history (in ``data_dir``) and the saved publishes (in ``config_path``;
    ``None``: saving is not offered) of one inspector. The saved ones are read from
    the config when the inspector opens (unless given as ``saved``); saves and
    removals write it through."""

    def __init__(
        self,
        data_dir: Path | None,
        config_path: Path | None,
        saved: dict[str, SavedPublish] | None = None,
    ) -> None:
        self.history = PublishHistory(data_dir / HISTORY_FILE if data_dir is not None else None)
        self.config_path = config_path
        if saved is None and config_path is not None:
            try:
                saved = load_config(config_path).inspector.publishes
            except ConfigError:  # the command said so when it started
                saved = {}
        self.saved: dict[str, Publish] = dict(saved or {})

    @property
    def can_save(self) -> bool:
        return self.config_path is not None

    def sent(self, publish: Publish) -> str | None:
        return self.history.add(publish)

    def last_sent_to(self, topic: str) -> Publish | None:
        return next((p for p in self.history.entries if p.topic == topic), None)

    def save(self, name: str, publish: Publish) -> str | None:
        """Save ``publish`` as ``name`` in the config; why not, if it could not be."""
        return self._write(lambda path: save_publish(path, name, publish), name, publish)

    def forget(self, name: str) -> str | None:
        return self._write(lambda path: forget_publish(path, name), name, None)

    def _write(
        self, change: Callable[[Path], None], name: str, publish: Publish | None
    ) -> str | None:
        if self.config_path is None:
            return "no config file to save in"
        try:
            change(self.config_path)
        except ConfigError as exc:
            return str(exc)
        if publish is None:
            self.saved.pop(name.strip(), None)
        else:
            self.saved[name.strip()] = publish
        return None


PREFILL_LIMIT = 16 * 1024
"""Bytes of a received payload the publish form is prefilled with at most."""


def prefill_from(message: Captured) -> Publish:
    """The publish form's fields from a topic's last message: its topic, QoS and
    retain flag, its content type and user properties, and its payload when it is
    whole text (a binary or cut payload, or one over :data:`PREFILL_LIMIT`, leaves
    the payload empty rather than garbled)."""
    payload = ""
    whole = message.size <= len(message.payload) <= PREFILL_LIMIT
    if whole and detect(message.payload, limit=PREFILL_LIMIT) in (
        PayloadKind.JSON,
        PayloadKind.TEXT,
    ):
        payload = message.payload.decode("utf-8")
    properties = message.properties or {}
    content_type = properties.get("ContentType")
    pairs = properties.get("UserProperty")
    user = ""
    if isinstance(pairs, list):
        user = ", ".join(
            f"{p[0]}={p[1]}" for p in pairs if isinstance(p, tuple) and "," not in f"{p[0]}{p[1]}"
        )
    return Publish(
        message.topic,
        payload,
        message.qos,
        message.retain,
        content_type if isinstance(content_type, str) else "",
        user,
    )


def publish_of(request: PublishRequest) -> Publish:
    """What the form held for ``request`` (its payload as the text typed)."""
    user = ", ".join(f"{k}={v}" for k, v in request.user_properties)
    return Publish(
        request.topic,
        request.payload.decode("utf-8", "surrogateescape"),
        request.qos,
        request.retain,
        request.content_type or "",
        user,
        request.message_expiry,
    )
