"""mosquitto as the local broker of ``mqchat serve``: its generated config, and the
process started with it and stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

from mqchat.broker.local import BrokerKind, BrokerStartError, RunningBroker, die_with_parent
from mqchat.config.private_files import write_private_text

__all__ = ["SERVE_MAX_QUEUED", "MosquittoBroker", "mosquitto_available", "render_serve_config"]

SERVE_MAX_QUEUED = 100_000
"""Messages mosquitto queues per offline client (its default, 1000, drops the rest
silently): a friend away for a week still gets every chat message."""

_READY_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


def mosquitto_available() -> bool:
    return shutil.which("mosquitto") is not None


def render_serve_config(
    host: str, port: int, data_dir: Path, log_file: Path, *, as_root: bool = False
) -> str:
    """The mosquitto.conf of ``mqchat serve``: one listener, anonymous logins, and
    persistence in ``data_dir`` so what is queued for an offline friend survives a
    restart of the broker."""
    lines = [
        "# Written by `mqchat serve`: a broker to try mqchat on, open to anyone who can",
        "# reach the listener. For a shared server see `mqchat broker-config mosquitto`.",
        f"listener {port} {host}",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {data_dir}/",
        # mosquitto writes its database on exit and then only every 30 minutes;
        # a crash between the two would lose what it queued for offline clients.
        "autosave_interval 60",
        f"max_queued_messages {SERVE_MAX_QUEUED}",
        # chat is many small packets each waiting for an answer (see mqchat/mqtt/factory.py)
        "set_tcp_nodelay true",
        f"log_dest file {log_file}",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if as_root:
        # Started as root, mosquitto drops to the `mosquitto` user, which cannot
        # write the data folder of the user who started it.
        lines.append("user root")
    return "\n".join(lines) + "\n"


class MosquittoBroker(RunningBroker):
    """mosquitto run with :func:`render_serve_config` (see
    :func:`~mqchat.broker.runner.start_broker`)."""

    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.kind = BrokerKind.MOSQUITTO
        self.host, self.port, self.data_dir = host, port, data_dir
        self._folder = Path(tempfile.mkdtemp(prefix="mqchat-serve-"))
        self._log = self._folder / "mosquitto.log"
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def description(self) -> str:
        return f"mosquitto (MQTT 5 and 3.1.1), queued messages kept in {self.data_dir}"

    async def start(self) -> None:
        conf = self._folder / "mosquitto.conf"
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        write_private_text(
            conf,
            render_serve_config(self.host, self.port, self.data_dir, self._log, as_root=as_root),
        )
        self._proc = await asyncio.create_subprocess_exec(
            "mosquitto",
            "-c",
            str(conf),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # Its own session: Ctrl+C in the terminal reaches us, and we stop it in
            # order (its database written) rather than both racing to exit.
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        try:
            await self._until_listening()
        except BaseException:
            await self.stop()
            raise

    async def _until_listening(self) -> None:
        proc = self._proc
        assert proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _READY_TIMEOUT
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise BrokerStartError(f"mosquitto did not start: {await self._last_words()}")
            try:
                _reader, writer = await asyncio.open_connection(self.host or "127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)  # polling a port that is not open yet
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise BrokerStartError(
            f"mosquitto did not listen on port {self.port} within "
            f"{_READY_TIMEOUT:g} s: {await self._last_words()}"
        )

    async def _last_words(self) -> str:
        """Why mosquitto stopped: the signal that killed it, else what it said (its
        stderr, else its log's last line)."""
        proc = self._proc
        if proc is not None and proc.returncode is not None and proc.returncode < 0:
            return f"killed by {signal.Signals(-proc.returncode).name}"
        said = ""
        if proc is not None and proc.stderr is not None and proc.returncode is not None:
            said = (await proc.stderr.read()).decode(errors="replace").strip()
        if not said and self._log.exists():
            lines = self._log.read_text(errors="replace").strip().splitlines()
            said = lines[-1] if lines else ""
        if "address already in use" in said.lower():
            return f"{self.host}:{self.port} is already in use"
        return said or f"it exited with status {proc.returncode if proc else '?'}"

    async def wait_closed(self) -> str:
        assert self._proc is not None
        status = await self._proc.wait()
        return f"mosquitto stopped (status {status}): {await self._last_words()}"

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        try:
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)  # it writes its database, then exits
                try:
                    await asyncio.wait_for(proc.wait(), _STOP_TIMEOUT)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
