"""The device list over the friends screen: the user's devices, this one marked,
updated live, and forgetting an offline one after a confirmation (and only such)."""

from __future__ import annotations

from mqchat.core.devices import DeviceRecord
from mqchat.screens.devices import DevicesScreen
from mqchat.screens.friends import FriendsScreen
from mqchat.screens.modals import ConfirmScreen
from tests.support.fake_backend import NOW, THIS_DEVICE, FakeBackend, at
from tests.support.screen import screen_text
from tests.ui.test_ui_snapshots import SIZE, keys

SERVER = "9f8e7d6c5b4a"
OLD_PC = "0a1b2c3d4e5f"


def seed_devices(backend: FakeBackend) -> None:
    backend.seed_device(THIS_DEVICE, online=True, since=at("14:04"), label="laptop")
    backend.seed_device(SERVER, online=True, since=at("09:30"), label="server")
    backend.seed_device(OLD_PC, since=at("13:40", days_ago=3), label="old-pc", lost=True)


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


def rows(app) -> list[str]:
    screen = app.screen
    assert isinstance(screen, DevicesScreen)
    options = screen.query_one("#device-list").options
    return [" ".join(str(o.prompt).split()) for o in options]


async def test_lists_the_devices_this_one_first_and_follows_their_records(
    build_app, backend, settle
):
    seed_devices(backend)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert rows(app) == [
            f"● laptop {THIS_DEVICE} online since 14:04 (this device)",
            f"● server {SERVER} online since 09:30",
            f"○ old-pc {OLD_PC} offline last seen 19 Nov (connection lost)",
        ]
        # The server quits; a new device appears: the list follows.
        backend.set_device(SERVER, DeviceRecord(SERVER, False, at("14:05"), "server"))
        backend.set_device("77aa", DeviceRecord("77aa", True, at("14:05"), "\x1b[31m[b]x"))
        await settle(pilot)
        assert rows(app)[1:] == [
            "● [31m[b]x 77aa online since 14:05",  # no ESC, no markup
            f"○ server {SERVER} offline last seen 14:05",
            f"○ old-pc {OLD_PC} offline last seen 19 Nov (connection lost)",
        ]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)


async def test_forgets_an_offline_device_after_yes(build_app, backend, settle):
    seed_devices(backend)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("down", "down", "f")  # old-pc
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Forget old-pc ({OLD_PC})?" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert backend.forgotten == [] and len(rows(app)) == 3
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert backend.forgotten == [OLD_PC]
        assert [r.split()[1] for r in rows(app)] == ["laptop", "server"]
        assert [n.message for n in app._notifications] == [f"Forgot old-pc ({OLD_PC})."]


async def test_refuses_this_device_and_an_online_one_without_asking(build_app, backend, settle):
    seed_devices(backend)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("f")  # this device
        await settle(pilot)
        await pilot.press("down", "f")  # the server, online
        await settle(pilot)
        assert isinstance(app.screen, DevicesScreen)
        assert [n.message for n in app._notifications] == [
            f"{THIS_DEVICE} is this device; forget it from another one",
            f"{SERVER} is online now: quit mqchat there first",
        ]
        assert backend.forgotten == []


async def test_a_refusal_from_the_backend_is_shown(build_app, backend, settle):
    seed_devices(backend)
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        backend.state = backend.state.__class__.RETRYING  # connection lost meanwhile
        await pilot.press("down", "down", "f", "y")
        await settle(pilot)
        assert backend.forgotten == [] and len(rows(app)) == 3
        assert [n.message for n in app._notifications] == [
            "not connected to the broker: try again once connected"
        ]


async def test_the_key_shows_once_the_user_has_another_device(build_app, backend, settle):
    """With this device alone there is nothing to list or forget: no key, no place
    taken in the footer. A second device's record brings the key."""
    backend.seed_device(THIS_DEVICE, online=True, since=at("14:04"), label="laptop")
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "v Devices" not in footer(app)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, FriendsScreen)
        backend.set_device(SERVER, DeviceRecord(SERVER, True, at("14:05"), "server"))
        await settle(pilot)
        assert "v Devices" in footer(app)
        await pilot.press("v")
        await settle(pilot)
        assert len(rows(app)) == 2


async def test_no_records_says_so(build_app, backend, screen_text, settle):
    app, _ = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(DevicesScreen(backend, lambda: NOW))
        await settle(pilot)
        assert "No device records yet" in screen_text(app)


def test_snapshot(snap_compare, build_app, backend):
    seed_devices(backend)
    app, _ = build_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("v", "down"))
