"""``mqchat devices [--json]`` and ``mqchat devices forget DEVICE``: the user's
devices from their retained records, and forgetting one that is gone for good.

Which device this data dir is comes from its history, read only if it exists (none:
this data dir has never been a device). Every failure is one line, exit 1."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mqchat.cli.base import EXIT_FAILED, EXIT_OK, Prepare, Prepared, UsageError, stdout_gone
from mqchat.cli.connect import command_settings, warn_if_insecure
from mqchat.config.settings import Settings
from mqchat.core.text import display_safe
from mqchat.core.topics import validate_device_id
from mqchat.core.wire import format_ts

if TYPE_CHECKING:
    from mqchat.core.devices import DeviceRecord

__all__ = ["DEVICES_COMMANDS", "add_devices_arguments"]

_LABEL_WIDTH = 20


def add_devices_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        nargs="?",
        choices=("forget",),
        metavar="forget",
        help="forget DEVICE: discard its session at the broker and clear its record",
    )
    p.add_argument("device", nargs="?", metavar="DEVICE", help="the id `mqchat devices` lists")
    p.add_argument("--json", action="store_true", help="one JSON object per device")


def _devices(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    settings = command_settings(args, environ)
    if args.action == "forget":
        if args.device is None:
            raise UsageError("name the device to forget: mqchat devices forget DEVICE")
        device = args.device

        def forget() -> int:
            try:
                validate_device_id(device)
            except ValueError as exc:
                return _fail(str(exc))
            return _forget(settings, device)

        return Prepared(forget, settings)
    return Prepared(lambda: _list(settings, as_json=args.json), settings)


def _fail(line: str) -> int:
    print(f"mqchat: {display_safe(line)}", file=sys.stderr)
    return EXIT_FAILED


def _this_device(settings: Settings) -> str | None:
    """This data dir's device id; ``None`` if it has no history for the user (no store
    is made). Raises :class:`~mqchat.store.StoreError`."""
    from mqchat.store import ChatStore

    if not settings.database.exists():
        return None

    async def read() -> str:
        store = await ChatStore.open(settings.database, within=settings.data_dir)
        try:
            return await store.device_id()
        finally:
            await store.close()

    return asyncio.run(read())


def _list(settings: Settings, *, as_json: bool) -> int:
    from mqchat.mqtt.errors import LinkError
    from mqchat.store import StoreError
    from mqchat.tools.devices import list_devices

    warn_if_insecure(settings)
    try:
        me = _this_device(settings)
        records = list_devices(settings, me=me)
    except StoreError as exc:
        return _fail(str(exc))
    except LinkError as exc:
        return _fail(exc.reason)
    if not records:
        line = f"{settings.user} has no devices on {settings.broker.label} yet"
        print(line, file=sys.stderr if as_json else sys.stdout)
        return EXIT_OK
    try:
        if as_json:
            for record in records:
                print(json.dumps(_object(record, me), ensure_ascii=False))
        else:
            for line in _table(records, me):
                print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_gone()
    return EXIT_OK


def _state(record: DeviceRecord) -> str:
    if record.online:
        return "online"
    return "lost" if record.lost else "offline"


def _object(record: DeviceRecord, me: str | None) -> dict[str, object]:
    return {
        "device": record.device,
        "label": record.label,
        "state": _state(record),
        "since": format_ts(record.since) if record.since else None,
        "this_device": record.device == me,
    }


def _table(records: list[DeviceRecord], me: str | None) -> list[str]:
    width = max(len("DEVICE"), *(len(r.device) for r in records))
    rows = [f"{'DEVICE':<{width}}  {'LABEL':<{_LABEL_WIDTH}}  {'STATE':<8} SINCE"]
    for r in records:
        label = display_safe(r.label or "-")
        if len(label) > _LABEL_WIDTH:
            label = label[: _LABEL_WIDTH - 1] + "…"
        since = r.since.astimezone().strftime("%Y-%m-%d %H:%M:%S") if r.since else "-"
        mark = "  (this device)" if r.device == me else ""
        rows.append(f"{r.device:<{width}}  {label:<{_LABEL_WIDTH}}  {_state(r):<8} {since}{mark}")
    return rows


def _forget(settings: Settings, device: str) -> int:
    from mqchat.mqtt.errors import LinkError
    from mqchat.store import StoreError
    from mqchat.tools.devices import ForgetRefused, forget_device

    warn_if_insecure(settings)
    try:
        me = _this_device(settings)
        done = forget_device(settings, device, me=me)
    except StoreError as exc:
        return _fail(str(exc))
    except ForgetRefused as exc:
        return _fail(f"not forgotten: {exc}")
    except LinkError as exc:
        return _fail(exc.reason)
    what = device
    if done.record is not None and done.record.label:
        what += f" ({display_safe(done.record.label)})"
    record = "cleared its record" if done.record else "it had no record"
    print(
        f"forgot {settings.user}'s device {what}: discarded its session at "
        f"{settings.broker.label} and {record}"
    )
    return EXIT_OK


DEVICES_COMMANDS: dict[str, Prepare] = {"devices": _devices}
