"""The inspector's keys: its bindings in the order the footer and the help list them,
and the keys of its panes that the help lists too."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from mqchat.screens.inspector.detail_pane import DETAIL_BINDINGS
from mqchat.screens.inspector.record_key import RECORD_TIP
from mqchat.screens.inspector.requests import PUBLISHES_BINDING

__all__ = ["DECRYPT_KEYS", "EXTRA_KEYS", "INSPECTOR_BINDINGS"]

INSPECTOR_BINDINGS: list[BindingType] = [
    # First, so that a narrow terminal's footer cuts anything but the way to the rest.
    Binding("question_mark", "help", "Keys", id="inspector.help", tooltip="This list of keys"),
    Binding("slash", "filter", "Filter", id="inspector.filter"),
    Binding("s", "subscribe", "Subscribe", id="inspector.subscribe"),
    Binding("u", "unsubscribe", "Unsubscribe", id="inspector.unsubscribe"),
    Binding("space", "pause", "Pause", id="inspector.pause"),
    Binding("P", "publish", "Publish", id="inspector.publish"),
    PUBLISHES_BINDING,
    Binding("r", "record", "Record", id="inspector.record", tooltip=RECORD_TIP),
    Binding("R", "clear_retained", "Clear retained", id="inspector.clear"),
    Binding("e", "export", "Export", id="inspector.export"),
    Binding("v", "cycle_view", "View", id="inspector.view"),
    *DETAIL_BINDINGS,
    Binding(
        "f",
        "cycle_format",
        "Format",
        show=False,
        id="inspector.format",
        tooltip="The selected topic's payload format: detected, MessagePack, CBOR, "
        "Protobuf, Sparkplug B (mqchat inspect saves it)",
    ),
    Binding("b", "broker_stats", "Broker", id="inspector.broker", tooltip="Broker stats ($SYS)"),
    Binding("escape,q", "back", "Back", id="inspector.back"),
    Binding(
        "n",
        "next_field",
        "Next field",
        show=False,
        id="inspector.field",
        tooltip="Sparkline: follow the next numeric JSON field",
    ),
    Binding(
        "ctrl+l",
        "clear_capture",
        "Clear",
        show=False,
        id="inspector.clear_capture",
        tooltip="Forget everything captured (counts start again at 0)",
    ),
]
EXTRA_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ → ←", "Topics: move, open and close a level"),
    ("enter", "Log: show that message in the detail"),
)
DECRYPT_KEYS: tuple[tuple[str, str], ...] = (
    ("v", "Sealed chat message: its decrypted view, opened with this device's keys"),
)
