"""The user's devices (each data dir mqchat ran from, protocol v2): a small box over
the friends list, kept current as their records come, marking this one; ``f``
forgets an offline other device after a confirmation (its session at the broker is
discarded and its record cleared, so nothing more waits for it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mqchat.chat.backend import ChatBackend, DeviceRefused
from mqchat.core.devices import DeviceRecord, why_not_forget
from mqchat.core.text import display_safe
from mqchat.screens.messages import DevicesChangedMsg
from mqchat.screens.modals import ConfirmScreen
from mqchat.widgets.render import OFFLINE_STYLE, ONLINE_STYLE, short_when

__all__ = ["DevicesScreen", "device_name", "device_row"]

LABEL_WIDTH = 16
STATE_WIDTH = 8
WHEN_WIDTH = 18


def device_name(record: DeviceRecord) -> str:
    """``laptop (3f9a0c5e21b7)``, or the id alone when it has no label; literal."""
    if record.label:
        return f"{display_safe(record.label)} ({record.device})"
    return record.device


def device_row(record: DeviceRecord, now: datetime, *, this: bool) -> Text:
    """``● laptop           3f9a0c5e21b7 online   since 14:02       (this device)``."""
    marker, style = ("●", ONLINE_STYLE) if record.online else ("○", OFFLINE_STYLE)
    row = Text.assemble((f"{marker} ", style), end="")
    label = display_safe(record.label or "(no name)")
    if len(label) > LABEL_WIDTH:
        label = label[: LABEL_WIDTH - 1] + "…"
    row.append(f"{label:<{LABEL_WIDTH}} ", style="bold" if this else "")
    row.append(f"{record.device:<13}", style="dim")
    row.append(f"{'online' if record.online else 'offline':<{STATE_WIDTH}} ", style=style)
    when = ""
    if record.since is not None:
        verb = "since" if record.online else "last seen"
        when = f"{verb} {short_when(record.since, now)}"
    row.append(f"{when:<{WHEN_WIDTH}}", style="dim")
    tags = ["(this device)"] if this else []
    if record.lost and not record.online:
        tags.append("(connection lost)")
    row.append(" ".join(tags), style="dim")
    return row


class DevicesScreen(ModalScreen[None]):
    """The device list; the App's backend events reach it as they reach every screen
    on the stack."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [
        Binding("f", "forget", "Forget device", id="devices.forget"),
        Binding("escape", "close", "Close", id="devices.close"),
    ]

    def __init__(self, backend: ChatBackend, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.backend = backend
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog devices") as dialog:
            dialog.border_title = "Your devices"
            yield OptionList(id="device-list")
            yield Static(
                "No device records yet: they come once connected.",
                id="no-devices",
                classes="dialog-error",
            )
            yield Static(id="devices-hint", classes="dialog-error")

    def on_mount(self) -> None:
        forget, close = self._key("forget", "f"), self._key("close", "esc")
        self.query_one("#devices-hint", Static).update(
            Text(
                f"{forget} forgets an offline device (its broker session and record) · "
                f"{close} closes",
                style="dim",
            )
        )
        self.query_one("#device-list", OptionList).focus()
        self.show()

    def _key(self, action: str, default: str) -> str:
        for active in self.active_bindings.values():
            if active.binding.action == action:
                return self.app.get_key_display(active.binding)
        return default

    def show(self) -> None:
        """List the devices again, keeping the highlighted one if it is still there."""
        devices = self.query_one("#device-list", OptionList)
        keep = devices.highlighted_option.id if devices.highlighted_option else None
        now, this = self.clock(), self.backend.this_device
        records = self.backend.devices()
        devices.set_options(
            Option(device_row(r, now, this=r.device == this), id=r.device) for r in records
        )
        ids = [r.device for r in records]
        if ids:
            devices.highlighted = ids.index(keep) if keep in ids else 0
        devices.display = bool(ids)
        self.query_one("#no-devices").display = not ids

    def on_devices_changed_msg(self, _msg: DevicesChangedMsg) -> None:
        self.show()

    def highlighted(self) -> DeviceRecord | None:
        option = self.query_one("#device-list", OptionList).highlighted_option
        if option is None:
            return None
        return next((r for r in self.backend.devices() if r.device == option.id), None)

    def action_forget(self) -> None:
        record = self.highlighted()
        if record is None:
            self.notify("No device is selected.", severity="warning")
            return
        why = why_not_forget(record.device, record, me=self.backend.this_device)
        if why is not None:
            self.notify(why, title="Not forgotten", severity="warning", markup=False)
            return
        name = device_name(record)
        question = (
            f"Forget {name}? The broker stops keeping messages for it and your other "
            "devices stop copying to it. If mqchat runs there again, it comes back "
            "without what was sent meanwhile."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._forget(record.device, name)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="forget-device")
    async def _forget(self, device: str, name: str) -> None:
        try:
            await self.backend.forget_device(device)
        except DeviceRefused as exc:
            self.notify(str(exc), title="Not forgotten", severity="error", markup=False)
            return
        self.notify(f"Forgot {name}.", markup=False)
        self.show()

    def action_close(self) -> None:
        self.dismiss(None)
