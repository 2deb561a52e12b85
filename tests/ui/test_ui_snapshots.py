"""SVG snapshots of every screen at 100x30, from fixed data, a fixed clock and TZ=UTC.
Update with ``pytest tests/ui --snapshot-update`` and look at the SVGs in
``snapshots/test_ui_snapshots/`` before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from mqchat.app import LoginDefaults
from mqchat.domain import ConnectionChanged, ConnectionState
from tests.fake_backend import FakeBackend

SIZE = (100, 30)


def keys(*presses: str) -> Callable[[Pilot[object]], Awaitable[None]]:
    """A ``run_before`` that lets the app settle, presses ``presses`` and settles again:
    no timing in the test, every frame the same."""

    async def run(pilot: Pilot[object]) -> None:
        for _ in range(5):
            await pilot.pause()
        for key in presses:
            await pilot.press(key)
            await pilot.pause()
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
