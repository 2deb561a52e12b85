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

__all__ = ["print_history", "print_room_history", "print_search"]

_NO_SUCH_PATH = (errno.ENOENT, errno.ENAMETOOLONG)


def print_history(settings: Settings, peer: str, *, as_json: bool) -> int:
    """The conversation with ``peer``, oldest first."""
    return _print(settings, lambda store: store.conversation(peer), as_json=as_json)


def print_room_history(settings: Settings, room: str, *, as_json: bool) -> int:
    """The room's conversation (by name or id), oldest first, each message with its
    sender; ours with how many members read it."""

    async def read(store: ChatStore) -> list[ChatMessage]:
        from mqchat.core.rooms import RoomError, room_key

        found = await store.rooms.get(room)
        if found is None:
            named = [r for r in await store.rooms.all() if r.name == room]
            if len(named) != 1:
                raise RoomError(f"no room named {room!r}" if not named else
                                f"{len(named)} rooms are named {room!r}: use its id")  # fmt: skip
            found = named[0]
        messages = await store.conversation(room_key(found.id))
        counts = await store.rooms.counts([m.id for m in messages if m.outgoing])
        others = len(found.others(settings.user))
        read_by.update({mid: (counts.get(mid, (0, 0))[1], others) for mid in counts})
        read_by.update({m.id: (0, others) for m in messages if m.outgoing and m.id not in counts})
        return messages

    read_by: dict[str, tuple[int, int]] = {}
    return _print(settings, read, as_json=as_json, with_peer=False, read_by=read_by)


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
    read_by: dict[str, tuple[int, int]] | None = None,
) -> int:
    """``read_by``: for a room, filled by ``read``: (members who read it, of how many)
    for each of our messages."""
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

    from mqchat.core.rooms import RoomError

    try:
        messages = asyncio.run(load())
    except (StoreError, RoomError) as exc:
        return _fail(str(exc))
    try:
        for msg in messages:
            print(
                _row(msg, as_json=as_json, with_peer=with_peer, read_by=(read_by or {}).get(msg.id))
            )
        sys.stdout.flush()
    except BrokenPipeError:  # `mqchat history … | head -1`
        return stdout_gone()
    return EXIT_OK


def _fail(line: str) -> int:
    print(f"mqchat: {line}", file=sys.stderr)
    return EXIT_FAILED


def _row(
    msg: ChatMessage, *, as_json: bool, with_peer: bool, read_by: tuple[int, int] | None = None
) -> str:
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
        if read_by is not None:
            obj |= {"read_by": read_by[0], "members": read_by[1]}
        # Protocol v2's changes, only on the messages they changed.
        if msg.edited is not None:
            obj["edited"] = format_ts(msg.edited)
        if msg.deleted:
            obj["deleted"] = True
        if msg.sealed:  # protocol v3: it travelled end-to-end encrypted
            obj["sealed"] = True
        return json.dumps(obj, ensure_ascii=False)
    local = msg.ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    mark = f" [{msg.state}]" if msg.outgoing else ""
    if read_by is not None:
        mark = f" [read by {read_by[0]} of {read_by[1]}]"
    who = f"{msg.sender} → {msg.recipient}" if with_peer else msg.sender
    if msg.deleted:
        return f"{local}  {who}: (message deleted){mark}"
    edited = " (edited)" if msg.edited is not None else ""
    return f"{local}  {who}: {display_safe(msg.body)}{edited}{mark}"
