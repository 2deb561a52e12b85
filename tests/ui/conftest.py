"""Fixtures of the UI tests: a seeded FakeBackend, an app built through make_app with
a fixed clock and no cursor blink, and SVG snapshots kept under ``snapshots/``."""

from __future__ import annotations

import os
import time

# Before anything renders: the environment must not change colours or times.
for _var in ("TEXTUAL_THEME", "NO_COLOR", "TEXTUAL_ANIMATIONS"):
    os.environ.pop(_var, None)
os.environ["TZ"] = "UTC"
time.tzset()

import sys  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import pytest_textual_snapshot  # noqa: E402
from syrupy.assertion import SnapshotAssertion  # noqa: E402
from syrupy.location import PyTestLocation  # noqa: E402
from textual.app import App  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mqchat.app import LoginDefaults, MqchatApp, make_app  # noqa: E402
from mqchat.config.settings import Settings  # noqa: E402
from tests.support.fake_backend import NOW, FakeBackend, fake_factory, seeded_backend  # noqa: E402
from tests.support.screen import screen_text, settle  # noqa: E402

SIZE = (100, 30)


class TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):
    """Keep snapshots in ``<repo>/snapshots/<test module>/`` rather than next to
    the tests."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(ROOT / "snapshots" / Path(test_location.filepath).stem)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch) -> SnapshotAssertion:
    # snap_compare wraps whatever `snapshot` gives it with the plugin's own
    # SVGImageExtension, looked up at call time: point that name at ours.
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", TopLevelSVGExtension)
    return snapshot.use_extension(TopLevelSVGExtension)


@pytest.fixture
def backend() -> FakeBackend:
    return seeded_backend()


AppBuilder = Callable[..., tuple[MqchatApp, list[Settings]]]


@pytest.fixture
def build_app(backend: FakeBackend) -> AppBuilder:
    """``build_app(auto_login=…, open_peer=…, defaults=…)`` → (app, connect calls)."""

    def build(
        *,
        auto_login: bool = True,
        open_peer: str | None = None,
        defaults: LoginDefaults | None = None,
        fake: FakeBackend | None = None,
    ) -> tuple[MqchatApp, list[Settings]]:
        calls, connect = fake_factory(fake or backend)
        app = make_app(
            defaults=defaults or LoginDefaults(user="alice", data_dir=Path("/nonexistent")),
            connect=connect,
            auto_login=auto_login,
            open_peer=open_peer,
            clock=lambda: NOW,
            cursor_blink=False,
        )
        app.theme = "textual-dark"
        return app, calls

    return build


@pytest.fixture(name="screen_text")
def screen_text_fixture() -> Callable[[App[object]], str]:
    return screen_text


@pytest.fixture(name="settle")
def settle_fixture() -> Callable[..., Awaitable[None]]:
    return settle
