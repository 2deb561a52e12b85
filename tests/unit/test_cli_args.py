"""Pure parsing of command-line values."""

from __future__ import annotations

import pytest

from mqchat.cli.main import UsageError, main, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("3600", 3600), ("90m", 5400), ("12h", 43200), ("7d", 604800)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "7w", "1.5h", "d", "999999999999"])
def test_bad_durations_say_why(text: str) -> None:
    with pytest.raises(UsageError, match=r"duration|session expiry"):
        parse_duration(text)


def test_bad_session_expiry_exits_2_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["chat", "--user", "alice", "--session-expiry", "soon"]) == 2
    assert "not a duration: 'soon'" in capsys.readouterr().err
