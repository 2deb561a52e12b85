"""DESIGN.md §1: each layer imports only what it may. Every module is imported in a
fresh interpreter and ``sys.modules`` is inspected."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import mqchat

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = [
    "mqchat.domain",
    "mqchat.topics",
    "mqchat.envelope",
    "mqchat.broker_url",
    "mqchat.backend",
    "mqchat.settings",
    "mqchat.tls_options",
    "mqchat.paths",
    "mqchat.inspector_backend",
    "mqchat.broker_config",
    "mqchat.profiles",
    "mqchat.keyring_store",
]


CLI = [
    "mqchat.cli",
    "mqchat.cli_base",
    "mqchat.cli_connect",
    "mqchat.cli_demo",
    "mqchat.cli_deploy",
    "mqchat.cli_profile",
    "mqchat.cli_tools",
    "mqchat.cli_serve",
]

# `mqchat serve`: amqtt only in the embedded broker, imported when that one starts
BROKER = {"mqchat.broker_run": {"amqtt"}, "mqchat.embedded_broker": set()}


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
    [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"}) for m in DOMAIN]
    + [(m, {"textual", "sqlalchemy", "aiomqtt", "paho"}) for m in _modules("mqchat.inspector")]
    + [(m, {"textual", "aiomqtt", "paho"}) for m in _modules("mqchat.store")]
    + [(m, {"textual"}) for m in _modules("mqchat.service")]
    + [(m, {"textual"}) for m in _modules("mqchat.demo")]
    + [
        (m, {"aiomqtt", "paho", "sqlalchemy", "mqchat.service", "mqchat.store"})
        for m in [
            "mqchat.app",
            "mqchat.inspect_app",
            "mqchat.ui_messages",
            *_modules("mqchat.screens"),
            *_modules("mqchat.widgets"),
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
            "mqchat.ui_messages",
            "mqchat.service",
            "mqchat.store",
            "mqchat.screens",
            "mqchat.widgets",
        }
    )
    assert not unchecked, f"add these modules to a layer: {sorted(unchecked)}"
