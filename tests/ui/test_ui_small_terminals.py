"""Small terminals: the key footer fits (the least useful keys go first, back and
quit stay, f1 lists every key), and the login form fits 60x20."""

from __future__ import annotations

from mqchat.widgets.footer import MORE_KEY, fit_keys


def footer(text: str) -> str:
    return text.splitlines()[-1]


FRIENDS = [
    ("⏎", "Open", "select"),
    ("a", "Add friend", "add"),
    ("d", "Remove", "remove"),
    ("p", "Presence", "presence"),
    ("esc", "Back", "back"),
    ("^q", "Quit", "quit"),
]


def test_everything_fits_when_there_is_room():
    assert fit_keys(FRIENDS, 200, compact=False) == ([0, 1, 2, 3, 4, 5], False)


def test_the_rightmost_ordinary_keys_go_first_and_the_essential_stay():
    kept, dropped = fit_keys(FRIENDS, 60, compact=False)
    assert dropped
    assert [FRIENDS[i][1] for i in kept] == ["Open", "Add friend", "Back", "Quit"]
    shown = sum(len(k) + len(d) + 3 for k, d, _ in [FRIENDS[i] for i in kept])
    assert shown + len(MORE_KEY[0]) + len(MORE_KEY[1]) + 3 <= 60


def test_a_tiny_terminal_keeps_only_the_essential():
    kept, dropped = fit_keys(FRIENDS, 10, compact=True)
    assert dropped and [FRIENDS[i][1] for i in kept] == ["Back", "Quit"]


async def test_friends_at_60_columns_keep_quit_and_point_to_f1(
    build_app, backend, screen_text, settle
):
    app, _ = build_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        line = footer(screen_text(app))
        assert "^q Quit" in line and line.rstrip().endswith("f1 All keys")
        assert "Inspector" not in line
        await pilot.press("f1")
        await settle(pilot)
        shown = screen_text(app)
        assert "Keys of friends" in shown
        for what in ("Presence", "Block", "Add friend", "Quit", "All keys"):
            assert what in shown
        assert "Reconnect" not in shown  # only while waiting to reconnect
        assert "Focus Next" not in shown and "Scroll Left" not in shown  # Textual's own
        await pilot.press("escape")
        await settle(pilot)
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        line = footer(screen_text(app))
        assert "p Presence" in line and "f1" not in line


async def test_the_inspector_keeps_its_own_help_key(build_app, backend, screen_text, settle):
    from tests.ui.test_ui_inspector_chat import build

    app = build([], [])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        line = footer(screen_text(app))
        assert line.startswith("? Keys") and "^q Quit" in line and "esc Back" in line
        assert "f1" not in line  # its own ? lists every key


async def test_the_login_form_fits_60_by_20(build_app, screen_text, settle):
    from mqchat.app import LoginDefaults

    app, _ = build_app(auto_login=False, defaults=LoginDefaults(user="alice"))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        for what in ("Broker URL", "User name", "Display name", "Password", "Connect"):
            assert what in shown, what
        assert "enter connects" in shown
        assert all(len(line.rstrip()) <= 60 for line in shown.splitlines())
        [top] = [line for line in shown.splitlines() if "Sign in to mqchat" in line]
        assert top.strip().startswith("╭") and top.strip().endswith("╮")  # not cut off
        assert any(line.strip().startswith("╰") for line in shown.splitlines())
