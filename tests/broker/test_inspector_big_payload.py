"""A huge payload through the inspector's feed on a real mosquitto that takes large
packets: cut to the capture's bound as it is read, its real size kept and shown, and
the process's memory neither peaks at the message's size nor grows per message."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqchat.inspector.capture import DEFAULT_PAYLOAD_CAP
from mqchat.inspector.feed import InspectorFeed
from mqchat.inspector.model import InspectorModel
from mqchat.inspector.view import InspectorView
from mqchat.widgets.inspector.detail_render import detail_text
from tests.broker.test_inspector_feed import Collected, connected, settings_for, wait_until
from tests.support.mosquitto import Mosquitto, require_mosquitto

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(sys.platform != "linux", reason="reads the peak RSS from /proc"),
]

MB = 1024 * 1024
SIZE = 100 * MB
PATTERN = bytes(range(256))


def memory() -> tuple[float, float]:
    """This process's resident memory and its peak since :func:`reset_peak`, in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


@pytest.fixture
def big_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto that takes packets of up to 128 MiB, whatever its defaults."""
    require_mosquitto()
    server = Mosquitto(tmp_path / "mosquitto", extra_config=f"max_packet_size {128 * MB}\n")
    yield server.start()
    server.stop()


def big_file(folder: Path) -> Path:
    """100 MB on disk, written without holding them in this process."""
    path = folder / "big.bin"
    with path.open("wb") as out:
        for _ in range(SIZE // MB):
            out.write(PATTERN * (MB // len(PATTERN)))
    return path


def publish(server: Mosquitto, topic: str, path: Path, qos: int) -> None:
    """By ``mosquitto_pub`` in a process of its own: only the inspector's memory counts here."""
    command = ["mosquitto_pub", "-p", str(server.port), "-t", topic, "-q", str(qos), "-f"]
    subprocess.run([*command, str(path)], check=True, timeout=60)


async def test_a_huge_payload_is_cut_as_read_and_memory_does_not_grow(
    big_broker: Mosquitto, tmp_path: Path
):
    path = big_file(tmp_path)
    feed = InspectorFeed(settings_for(big_broker.url))
    feed.subscribe("big/#", 1)
    feed.start()
    view = InspectorView(InspectorModel())
    got = Collected(feed)
    try:
        await wait_until(lambda: connected(feed))
        reset_peak()
        start, _ = memory()
        after_first = 0.0
        for n in range(5):  # QoS 0 on the short decoding path, QoS 1 on paho's
            await asyncio.to_thread(publish, big_broker, f"big/{n}", path, n % 2)
            [message] = (await got.until(n + 1, timeout=60))[n:]
            view.ingest([message])
            assert (message.topic, message.size, message.qos) == (f"big/{n}", SIZE, n % 2)
            assert message.payload == (PATTERN * (DEFAULT_PAYLOAD_CAP // 256))
            if n == 0:
                after_first = memory()[0]
        rss, peak = memory()
    finally:
        await feed.stop()
    assert peak - start < 32, f"the peak grew by {peak - start:.0f} MB for 100 MB messages"
    assert rss - after_first < 8, f"{rss - after_first:.0f} MB more after 5 than after 1"
    captured = view.model.store.last("big/4")
    assert captured is not None and captured.size == SIZE
    text, _ = detail_text(captured, [captured])
    assert "104,857,600 bytes" in text.plain
    assert "payload cut: showed 16,384 of 104,857,600 bytes" in text.plain
