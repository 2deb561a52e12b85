"""``mqchat history`` and ``mqchat search``: the stored history, read without
connecting, printed for people or as JSON lines for scripts.

Both only read: a history that is not there is said (not created), one that cannot
be opened or read is one line naming the file and what to do, exit 1, and a reader
that stops early (``| head -1``) ends them quietly."""

from __future__ import annotations

import asyncio
import errno
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, stdout_gone
from mqchat.config.settings import Settings
from mqchat.core.text import display_safe
from mqchat.core.wire import format_ts

if TYPE_CHECKING:
    from mqchat.core.model import ChatMessage
    from mqchat.store import ChatStore

__all__ = ["print_history", "print_search"]

_NO_SUCH_PATH = (errno.ENOENT, errno.ENAMETOOLONG)


def print_history(settings: Settings, peer: str, *, as_json: bool) -> int:
    """The conversation with ``peer``, oldest first."""
    return _print(settings, lambda store: store.conversation(peer), as_json=as_json)


def print_search(
    settings: Settings, text: str, *, peer: str | None, limit: int, as_json: bool
) -> int:
    """Up to ``limit`` messages matching ``text`` (with ``peer`` only, if given),
    newest first. Finding nothing is not an error: no lines, exit 0."""
    return _print(
        settings,
        lambda store: store.search(text, peer=peer, limit=limit),
        as_json=as_json,
        with_peer=peer is None,
    )


def _print(
    settings: Settings,
    read: Callable[[ChatStore], Awaitable[list[ChatMessage]]],
    *,
    as_json: bool,
    with_peer: bool = False,
) -> int:
    from mqchat.store import ChatStore, StoreError
    from mqchat.store.faults import cannot_open

    path = settings.database
    try:
        path.stat()
    except OSError as exc:
        if exc.errno in _NO_SUCH_PATH:
            return _fail(
                f"no history for {settings.user} on {settings.broker.label} ({path}); "
                "check --user, --broker and --data-dir"
            )
        return _fail(cannot_open(path, exc))

    async def load() -> list[ChatMessage]:
        store = await ChatStore.open(path, within=settings.data_dir)
        try:
            return await read(store)
        finally:
            await store.close()

    try:
        messages = asyncio.run(load())
    except StoreError as exc:
        return _fail(str(exc))
    try:
        for msg in messages:
            print(_row(msg, as_json=as_json, with_peer=with_peer))
        sys.stdout.flush()
    except BrokenPipeError:  # `mqchat history … | head -1`
        return stdout_gone()
    return EXIT_OK


def _fail(line: str) -> int:
    print(f"mqchat: {line}", file=sys.stderr)
    return EXIT_FAILED


def _row(msg: ChatMessage, *, as_json: bool, with_peer: bool) -> str:
    if as_json:
        obj: dict[str, object] = {
            "id": msg.id,
            "from": msg.sender,
            "to": msg.recipient,
            "ts": format_ts(msg.ts),
            "body": msg.body,
            "state": str(msg.state),
            "direction": str(msg.direction),
        }
        # Protocol v2's changes, only on the messages they changed.
        if msg.edited is not None:
            obj["edited"] = format_ts(msg.edited)
        if msg.deleted:
            obj["deleted"] = True
        return json.dumps(obj, ensure_ascii=False)
    local = msg.ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    mark = f" [{msg.state}]" if msg.outgoing else ""
    who = f"{msg.sender} → {msg.recipient}" if with_peer else msg.sender
    if msg.deleted:
        return f"{local}  {who}: (message deleted){mark}"
    edited = " (edited)" if msg.edited is not None else ""
    return f"{local}  {who}: {display_safe(msg.body)}{edited}{mark}"
