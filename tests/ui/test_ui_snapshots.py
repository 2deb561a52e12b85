"""SVG snapshots of every screen at 100x30, from fixed data, a fixed clock and TZ=UTC.
Update with ``pytest tests/ui --snapshot-update`` and look at the SVGs in
``snapshots/test_ui_snapshots/`` before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from textual.pilot import Pilot

from mqchat.app import LoginDefaults
from mqchat.core.events import ConnectionChanged
from mqchat.core.model import ConnectionState, ContactStatus, DeliveryState, PresenceState
from mqchat.screens.conversation import ConversationScreen
from tests.support.fake_backend import FakeBackend, at

SIZE = (100, 30)
READ = DeliveryState.READ
MINUTE = timedelta(minutes=1)


def keys(
    *presses: str, then: Callable[[], object] | None = None
) -> Callable[[Pilot[object]], Awaitable[None]]:
    """A ``run_before`` that lets the app settle, presses ``presses``, calls ``then``
    (to inject backend events) and settles again: no timing in the test, every frame
    the same."""

    async def run(pilot: Pilot[object]) -> None:
        for _ in range(5):
            await pilot.pause()
        for key in presses:
            await pilot.press(key)
            await pilot.pause()
        if then is not None:
            then()
        for _ in range(5):
            await pilot.pause()

    return run


def test_login(snap_compare, build_app):
    app, _ = build_app(
        auto_login=False,
        defaults=LoginDefaults(user="alice", display_name="Alice", password="hunter2"),
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_login_failed(snap_compare, build_app):
    fake = FakeBackend(
        connect_events=[
            ConnectionChanged(ConnectionState.CONNECTING),
            ConnectionChanged(ConnectionState.FAILED, "not authorised (bad user name or password)"),
        ]
    )
    app, _ = build_app(auto_login=False, fake=fake)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("enter"))


def test_friends(snap_compare, build_app):
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_conversation(snap_compare, build_app):
    app, _ = build_app(open_peer="bob")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys(*"on the bus", "enter"))


def test_presence(snap_compare, build_app):
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("p"))


def test_add_contact_refused(snap_compare, build_app):
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("a", *"a b", "enter"))


def test_friends_with_requests(snap_compare, build_app, backend):
    backend.seed_request("zoe", "Zoe", body="hi! we met at the meetup", ts=at("12:30"))
    backend.seed_request("yann")
    backend.seed_contact("dave", status=ContactStatus.REQUESTED)
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_conversation_with_a_request_typing(snap_compare, build_app, backend, monkeypatch):
    monkeypatch.setattr(ConversationScreen, "typing_fade", 3600.0)  # no fading mid-snapshot
    backend.seed_request("zoe", "Zoe", body="hi! we met at the meetup", ts=at("12:30"))
    backend.seed_message("zoe", "do you still have the slides?", at("12:31"))
    backend.seed_presence("zoe", PresenceState.ONLINE, at("12:00"), name="Zoe")
    app, _ = build_app(open_peer="zoe")
    assert snap_compare(
        app, terminal_size=SIZE, run_before=keys(then=lambda: backend.peer_typing("zoe"))
    )


HOSTILE = [  # oldest first: the ones that fit on screen come last
    "\n".join(f"line {i}" for i in range(1, 2001)),
    "W" * 600,
    "[bold red]not red[/] [link=http://evil.example]not a link[/link] :smile: $text",
    "clear\x1b[2J\x1b[H screen? bell\x07 osc\x1b]0;pwned\x07 csi\x9b31m end",
    "file: \u202egnp.exe\u202c and \u2067isolated\u2069 text",
]


def test_conversation_with_hostile_messages(snap_compare, build_app, backend):
    backend.seed_contact("mallory", "[b]Mal\x1b[31mlory\u202e" + "x" * 60)
    for i, body in enumerate(HOSTILE):
        backend.seed_message("mallory", body, at(f"13:{i:02d}"))
    app, _ = build_app(open_peer="mallory")
    # All unread: it opens at the first of them; end shows the newest, as before.
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("end"))


def test_mqtt_3_fallback(snap_compare, build_app, backend):
    backend.connect_events = [
        ConnectionChanged(ConnectionState.CONNECTING),
        ConnectionChanged(
            ConnectionState.CONNECTED,
            "broker.test:1883 refused MQTT 5; connected with MQTT 3.1.1",
            protocol="3.1.1",
        ),
    ]
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_conversation_with_a_multi_line_draft(snap_compare, build_app):
    app, _ = build_app(open_peer="bob")
    draft = ("running late,", "the bus broke down", "", "see you at 5:30?")
    presses = [key for line in draft for key in (*line, "ctrl+j")][:-1]
    assert snap_compare(app, terminal_size=SIZE, run_before=keys(*presses))


def test_conversation_with_day_separators(snap_compare, build_app, backend):
    backend.seed_contact("erin", "Erin")
    backend.seed_message("erin", "see you on monday", at("17:30", days_ago=3), outgoing=True)
    backend.seed_message("erin", "bring the slides", at("18:02", days_ago=3), state=READ)
    backend.seed_message("erin", "slides ready\nall 40 of them", at("21:15", days_ago=1))
    backend.seed_message("erin", "great, thanks!", at("08:40"), outgoing=True)
    backend.seed_message("erin", "running late", at("13:58"))
    app, _ = build_app(open_peer="erin")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_conversation_with_new_messages_below(snap_compare, build_app, backend):
    backend.seed_contact("erin", "Erin")
    for i in range(60):
        backend.seed_message("erin", f"note {i:02d}", at("09:00") + i * MINUTE, state=READ)
    app, _ = build_app(open_peer="erin")

    def arrive() -> None:
        backend.receive("erin", "are you there?", at("14:04"))
        backend.receive("erin", "hello?", at("14:05"))

    assert snap_compare(app, terminal_size=SIZE, run_before=keys("pageup", then=arrive))
