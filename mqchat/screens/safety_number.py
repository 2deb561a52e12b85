"""The safety number with a peer (ctrl+k in a conversation, protocol v3): sixty
digits in three rows of four groups, the same on both screens when nobody sits in
between, to compare in person or on a call; then ``m`` marks the peer's keys
verified. It says where their keys stand, and follows them live (they may change
while it is open). A peer without keys has no number: it says so plainly."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mqchat.chat.backend import ChatBackend
from mqchat.core.trust import KeyTrust
from mqchat.screens.messages import TrustChangedMsg
from mqchat.widgets.render import clock_time, safe
from mqchat.widgets.trust_text import (
    CHANGED_STYLE,
    ENCRYPTED,
    PLAIN_STYLE,
    VERIFIED,
    VERIFIED_STYLE,
    safety_rows,
)

__all__ = ["SafetyNumberScreen", "trust_words"]


def trust_words(peer: str, trust: KeyTrust) -> Text:
    """Where ``peer``'s keys stand, in a sentence, for the dialog."""
    devices = f"{trust.devices} device{'s' if trust.devices != 1 else ''}"
    if trust.changed is not None:
        return Text.assemble(
            (f"⚠ {peer}'s keys changed at {clock_time(trust.changed)}", CHANGED_STYLE),
            f" ({devices}); not verified since.",
            end="",
        )
    if trust.verified:
        return Text.assemble(
            (VERIFIED, VERIFIED_STYLE), f": you compared these with {peer} ({devices}).", end=""
        )
    return Text(f"{ENCRYPTED}; not verified yet ({devices}).", end="")


class SafetyNumberScreen(ModalScreen[None]):
    """``peer``'s safety number from ``backend``; ``m`` calls ``backend.verify``."""

    CSS_PATH = "modals.tcss"
    BINDINGS = [
        Binding("m", "verify", "Mark verified", id="safety.verify"),
        Binding("escape", "close", "Close", id="safety.close"),
    ]

    def __init__(self, backend: ChatBackend, peer: str) -> None:
        super().__init__()
        self.backend = backend
        self.peer = peer
        self.trust = backend.trust(peer)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog safety") as dialog:
            dialog.border_title = f"Safety number with {safe(self.peer).plain}"
            yield Static(id="safety-about")
            yield Static(id="safety-digits")
            yield Static(id="safety-state")
            yield Static(id="safety-hint")

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        peer = safe(self.peer).plain
        number = self.backend.safety_number(self.peer) if self.trust.encrypted else None
        about, digits = self.query_one("#safety-about", Static), self.query_one("#safety-digits")
        hint = self.query_one("#safety-hint", Static)
        digits.display = number is not None
        if number is None:
            about.update(
                Text(
                    f"{peer} has no keys (an older mqchat): nothing you send them is "
                    "encrypted, so there is no safety number to compare.",
                    style=PLAIN_STYLE,
                )
            )
            self.query_one("#safety-state", Static).update("")
            hint.update(Text("esc closes", style="dim"))
            return
        about.update(
            f"Compare these digits with the ones {peer} sees (ctrl+k in your "
            "conversation on their side), in person or on a call:"
        )
        self.query_one("#safety-digits", Static).update("\n".join(safety_rows(number)))
        self.query_one("#safety-state", Static).update(trust_words(peer, self.trust))
        hint.update(
            Text("esc closes", style="dim")
            if self.trust.verified
            else Text.assemble(
                ("m", "bold"), ": mark verified, once they match · ", ("esc", "bold"), " closes"
            )
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "verify":
            return self.trust.encrypted and not self.trust.verified
        return True

    async def action_verify(self) -> None:
        if not self.check_action("verify", ()):
            return
        self.trust = await self.backend.verify(self.peer)
        self.show()
        self.notify(f"{safe(self.peer).plain}'s keys are marked verified.", markup=False)

    def on_trust_changed_msg(self, msg: TrustChangedMsg) -> None:
        if msg.event.trust.user == self.peer:
            self.trust = msg.event.trust
            self.show()

    def action_close(self) -> None:
        self.dismiss()
