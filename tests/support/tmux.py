"""Real ``mqchat`` processes in tmux, driven as a person would: type, paste, press
keys, read the screen; one tmux server per test, gone with its folder."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["ROOT", "Terminal", "terminals"]

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """One tmux session running one command, 100 by 30, on the test's own tmux
    server (``socket``): started from the test's environment, without anybody's
    ~/.tmux.conf, gone with the test's folder."""

    def __init__(self, socket: Path, name: str, command: str) -> None:
        self._tmux_cmd = ["tmux", "-f", "/dev/null", "-S", str(socket)]
        self.name = name
        self._tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", command)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            [*self._tmux_cmd, *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 15) -> str:
        """Poll the screen until ``condition`` holds: a terminal has no event to await."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: no {what} within {timeout}s; screen:\n{screen}")

    def wait_text(self, text: str, timeout: float = 15) -> str:
        return self.wait_for(lambda s: text in s, repr(text), timeout)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def paste(self, text: str, *, bracketed: bool = True) -> None:
        """Paste ``text`` as a terminal does, in bracketed paste when the program asks
        for it (tmux turns its line breaks into CR, as terminals do); without
        brackets, as a terminal that has none: keys, a line break is enter."""
        buffer = f"paste-{self.name}"
        subprocess.run(
            [*self._tmux_cmd, "load-buffer", "-b", buffer, "-"],
            input=text,
            text=True,
            check=True,
            timeout=10,
        )
        brackets = ["-p"] if bracketed else []
        self._tmux("paste-buffer", *brackets, "-d", "-b", buffer, "-t", self.name)

    def pid(self) -> int:
        return int(self._tmux("list-panes", "-t", self.name, "-F", "#{pane_pid}").split()[0])

    def alive(self) -> bool:
        return (
            subprocess.run(
                [*self._tmux_cmd, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )

    def close(self) -> None:
        if self.alive():
            subprocess.run([*self._tmux_cmd, "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminals(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Terminal]]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed: CI must run the end-to-end test", pytrace=False)
        pytest.skip("tmux is not installed (apt-get install -y tmux)")
    opened: list[Terminal] = []
    tag = uuid.uuid4().hex[:6]
    socket = tmp_path_factory.mktemp("tmux") / "tmux.sock"

    def open_terminal(user: str, args: list[str], editor: Path | None = None) -> Terminal:
        env = "env -u TEXTUAL_THEME -u NO_COLOR -u VISUAL TERM=xterm-256color COLORTERM=truecolor"
        if editor is not None:
            env += f" EDITOR={shlex.quote(str(editor))}"
        cmd = f"cd {shlex.quote(str(ROOT))} && {env} {shlex.quote(sys.executable)} -m mqchat "
        command = cmd + " ".join(map(shlex.quote, args))
        term = Terminal(socket, f"mqchat-{user}-{tag}", command)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()
