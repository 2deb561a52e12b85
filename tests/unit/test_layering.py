"""What the import-linter contracts (pyproject.toml) cannot check: which third-party
packages a module pulls in when imported. ``mqchat send`` must start quickly, so the
CLI's entry module imports no UI, MQTT, database or broker library until a command
needs one; and ``mqchat serve`` imports amqtt only when the embedded broker starts.
One fresh interpreter imports both and reports ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"textual", "aiomqtt", "paho", "sqlalchemy", "amqtt"}

# The modules in turn, in one interpreter; sys.modules after each.
PROBE = """
import importlib, json, sys
seen = {}
for module in sys.argv[1:]:
    importlib.import_module(module)
    seen[module] = sorted(sys.modules)
print(json.dumps(seen))
"""
MODULES = ["mqchat.cli.main", "mqchat.broker.runner"]


def test_the_cli_and_the_broker_runner_import_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *MODULES],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    for module, names in json.loads(out.stdout).items():
        leaked = HEAVY & {name.split(".")[0] for name in names}
        assert not leaked, f"{module} pulls in {sorted(leaked)}"


# What `mqchat chat` does before its first frame: the chat's modules and the options
# it hands to the inspector. The inspector's screens wait until it opens (ctrl+t),
# the MQTT libraries until the chat connects (after the first frame).
CHAT_START = """
import json, sys
from pathlib import Path
from mqchat.app import make_app
from mqchat.chat.service import ChatService
from mqchat.cli.inspect import watch_options
from mqchat.config.profiles import load_config
watch_options(load_config(Path(sys.argv[1])))
print(json.dumps(sorted(sys.modules)))
"""


def test_the_chat_loads_no_inspector_screen_nor_mqtt_library_before_its_first_frame(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[inspector.watch]]\nfilter = "home/#"\nabove = 30\n')
    out = subprocess.run(
        [sys.executable, "-c", CHAT_START, str(config)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    names = json.loads(out.stdout)
    later = (
        "mqchat.screens.inspector",
        "google.protobuf",
        "aiomqtt",
        "paho",
        "mqchat.mqtt.session",
    )
    early = [n for n in names if n.startswith(later)]
    assert not early, f"loaded before the inspector opens: {early}"
