"""``mqchat room …`` (create, add, remove, rename, leave, list) and the room side of
``mqchat send --room`` and ``mqchat history --room``: rooms for scripts (protocol
v2, docs/protocol.md#rooms)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Mapping

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, Prepared, UsageError, stdout_gone
from mqchat.cli.connect import (
    add_chat_options,
    add_connection_security_options,
    command_settings,
    warn_if_insecure,
)
from mqchat.config.settings import Settings
from mqchat.core.names import InvalidUserName, validate_user_name
from mqchat.core.text import display_safe

__all__ = ["ROOM_COMMANDS", "add_room_commands", "send_to_room_command"]

_ACTIONS = ("create", "add", "remove", "rename", "leave", "list")


def add_room_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    room = commands.add_parser(
        "room",
        help="create and change rooms (group conversations)",
        description="Rooms of up to 100 members. create NAME --members bob,carol; "
        "add NAME USER…; remove NAME USER…; rename NAME NEW; leave NAME; list. "
        "Only admins (the creator, to begin with) add, remove and rename.",
    )
    room.add_argument("action", choices=_ACTIONS, metavar="ACTION", help=", ".join(_ACTIONS))
    room.add_argument("room_name", nargs="?", metavar="NAME", help="the room's name (or id)")
    room.add_argument("users", nargs="*", metavar="USER", help="for add and remove")
    room.add_argument("--members", metavar="U1,U2", help="for create: the other members")
    room.add_argument("--json", action="store_true", help="for list: one JSON object per room")
    add_chat_options(room)
    add_connection_security_options(room)


def _users(values: list[str]) -> list[str]:
    users = [u.strip() for value in values for u in value.split(",") if u.strip()]
    try:
        return [validate_user_name(u) for u in users]
    except InvalidUserName as exc:
        raise UsageError(str(exc)) from None


def _room(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ, connects=args.action != "list")
    if args.action != "list" and not args.room_name:
        raise UsageError(f"room {args.action}: which room? (mqchat room {args.action} NAME …)")
    users = _users(args.users)
    if args.action == "create":
        users = _users([args.members or ""]) + users
        if not users:
            raise UsageError("room create: who is in it? (--members bob,carol)")
    if args.action in ("add", "remove") and not users:
        raise UsageError(f"room {args.action}: which users? (mqchat room {args.action} NAME USER…)")
    if args.action == "rename" and len(args.users) != 1:
        raise UsageError("room rename: give the new name (mqchat room rename NAME NEW)")

    def run() -> int:
        if args.action == "list":
            return _list(settings, as_json=args.json)
        warn_if_insecure(settings)
        return _change(settings, args.action, args.room_name, users, args.users)

    return Prepared(run, settings)


def _change(settings: Settings, action: str, name: str, users: list[str], raw: list[str]) -> int:
    from mqchat.chat.rooms import Rooms
    from mqchat.core.rooms import Room
    from mqchat.tools.rooms import RoomCommandError, run_room

    async def act(rooms: Rooms) -> Room:
        match action:
            case "create":
                return await rooms.create(name, users)
            case "add":
                return await rooms.add(name, users)
            case "remove":
                return await rooms.remove(name, users)
            case "rename":
                return await rooms.rename(name, raw[0])
        return await rooms.leave(name)

    try:
        room = asyncio.run(run_room(settings, act))
    except RoomCommandError as exc:
        print(f"mqchat: room {action}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    said = "left" if action == "leave" else f"{action}d" if action.endswith("e") else f"{action}ed"
    print(
        f"{said} {display_safe(room.name)!r} ({room.id}): {', '.join(room.members)}",
        file=sys.stderr,
    )
    return EXIT_OK


def _list(settings: Settings, *, as_json: bool) -> int:
    from mqchat.core.rooms import Room
    from mqchat.store import ChatStore, StoreError

    if not settings.database.is_file():
        return EXIT_OK  # no history yet: no rooms, and none is made for asking

    async def load() -> list[Room]:
        store = await ChatStore.open(settings.database, within=settings.data_dir)
        try:
            return await store.rooms.all()
        finally:
            await store.close()

    try:
        rooms = asyncio.run(load())
    except StoreError as exc:
        print(f"mqchat: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        for room in rooms:
            if as_json:
                print(json.dumps(dataclasses.asdict(room), ensure_ascii=False))
            else:
                left = "" if room.joined else "  (left)"
                print(f"{display_safe(room.name)}  {', '.join(room.members)}{left}")
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    return EXIT_OK


def send_to_room_command(settings: Settings, room: str, text: str) -> int:
    from mqchat.tools.rooms import RoomCommandError, send_to_room

    warn_if_insecure(settings)
    try:
        mid = asyncio.run(send_to_room(settings, room, text))
    except RoomCommandError as exc:
        print(f"mqchat: not sent: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"sent {mid} to the room {room!r}", file=sys.stderr)
    return EXIT_OK


ROOM_COMMANDS = {"room": _room}
