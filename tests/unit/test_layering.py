"""docs/architecture.md#layers: each layer imports only what it may. Every module is imported in a
fresh interpreter and ``sys.modules`` is inspected."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import mqchat

ROOT = Path(__file__).resolve().parents[2]
PURE = ["mqchat.chat.backend", "mqchat.inspector.backend", "mqchat.broker.deploy_config"]


CLI = [
    "mqchat.cli.main",
    "mqchat.cli.base",
    "mqchat.cli.connect",
    "mqchat.cli.demo",
    "mqchat.cli.broker_config",
    "mqchat.cli.profile",
    "mqchat.cli.keys",
    "mqchat.cli.tools",
    "mqchat.cli.serve",
]

# `mqchat serve`: amqtt only in the embedded broker, imported when that one starts
BROKER = {"mqchat.broker.runner": {"amqtt"}, "mqchat.broker.embedded": set()}


def _modules(prefix: str) -> list[str]:
    package = __import__(prefix, fromlist=["_"])
    return [prefix] + [f"{prefix}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]


def imported_by(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return {name.split(".")[0] for name in json.loads(out.stdout)} | set(json.loads(out.stdout))


CASES = (
    [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"}) for m in PURE]
    + [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"}) for m in _modules("mqchat.core")]
    + [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"}) for m in _modules("mqchat.config")]
    + [
        (m, {"textual", "sqlalchemy", "aiomqtt", "paho"})
        for m in _modules("mqchat.inspector")
        if m != "mqchat.inspector.feed"
    ]
    + [(m, {"textual", "aiomqtt", "paho"}) for m in _modules("mqchat.store")]
    + [(m, {"textual"}) for m in _modules("mqchat.mqtt")]
    + [(m, {"textual"}) for m in _modules("mqchat.chat")]
    + [(m, {"textual"}) for m in _modules("mqchat.tools")]
    + [(m, {"textual"}) for m in ["mqchat.inspector.feed"]]
    + [(m, {"textual"}) for m in _modules("mqchat.demo")]
    + [
        (m, {"aiomqtt", "paho", "sqlalchemy", "mqchat.mqtt", "mqchat.store"})
        for m in [
            "mqchat.app",
            "mqchat.inspect_app",
            *_modules("mqchat.screens"),
            *_modules("mqchat.screens.inspector"),
            *_modules("mqchat.widgets"),
            *_modules("mqchat.widgets.inspector"),
        ]
    ]
    + [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"} | more) for m, more in BROKER.items()]
    # nothing heavy at import time
    + [(m, {"textual", "aiomqtt", "sqlalchemy"}) for m in CLI]
)


@pytest.mark.parametrize(("module", "forbidden"), CASES, ids=[c[0] for c in CASES])
def test_layer_imports(module: str, forbidden: set[str]) -> None:
    leaked = forbidden & imported_by(module)
    assert not leaked, f"{module} pulls in {sorted(leaked)}"


def test_every_package_module_is_checked() -> None:
    checked = {c[0] for c in CASES}
    top = {f"mqchat.{m.name}" for m in pkgutil.iter_modules(mqchat.__path__)}
    unchecked = (
        top
        - checked
        - {
            "mqchat.__main__",
            "mqchat.core",
            "mqchat.config",
            "mqchat.mqtt",
            "mqchat.chat",
            "mqchat.tools",
            "mqchat.broker",
            "mqchat.cli",
            "mqchat.store",
            "mqchat.screens",
            "mqchat.widgets",
        }
    )
    assert not unchecked, f"add these modules to a layer: {sorted(unchecked)}"
