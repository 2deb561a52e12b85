"""The flight recorder end to end (issue 17, acceptance 1): `mqchat record` takes a
mixed flood (JSON, MessagePack, CBOR, binary; QoS 0/1; some retained; MQTT 5
properties) from one private mosquitto, `mqchat replay --prefix replay --speed max`
publishes the recording on a second one, where `mqchat sub -C N --json` reads it;
then the recording is opened as `mqchat inspect --open` does (headless) and the
scrubber is sent to every minute of it.

    .venv/bin/python bench/record_replay.py [--messages 100000] [--minutes 0]

``--minutes M`` spreads the flood over M minutes (default: as fast as the broker
takes it), so that the recording spans minutes for the scrubber. Figures: record
rate (messages over the time from the first publish until `mqchat record -C N`
exited), file size, replay rate (messages over the time `mqchat replay` took),
whether the payloads arrived the same per topic, and how long the scrubber took to
show each minute. Exit status 1 when anything differs."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker, mosquitto_version  # noqa: E402
from bench._mixed_flood import Flood, flood, publish_flood  # noqa: E402
from bench._report import machine_description  # noqa: E402

READY = "bench/ready"


def mqchat(*args: str) -> list[str]:
    return [sys.executable, "-m", "mqchat", *args]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def wait_for(done, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {timeout}s")
        time.sleep(0.02)  # another process's file: nothing to await


def recorded_any(path: Path) -> bool:
    from mqchat.inspector.recording import RecordingError, read_all

    try:
        return path.exists() and bool(read_all(path)[1])
    except RecordingError:
        return False  # the header is not written yet


def per_topic(items: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in items:
        out[topic].append(payload)
    return out


def scrub(path: Path) -> list[tuple[int, int, float]]:
    """The recording opened as `inspect --open` does, in a headless app: the cursor
    sent to the start, then one minute on at a time (``}``) up to the end. Returns
    (minute, messages shown, seconds from the key until the screen had taken them all)."""
    from mqchat.inspect_app import make_playback_app
    from mqchat.inspector.playback import load_playback
    from mqchat.screens.inspector.playback import PlaybackScreen

    playback = load_playback(path)
    app = make_playback_app(playback, data_dir=path.parent, cursor_blink=False)
    rows: list[tuple[int, int, float]] = []

    async def run() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            screen = app.screen
            assert isinstance(screen, PlaybackScreen)
            minute, key = 0, "g"
            while True:
                started = time.perf_counter()
                await pilot.press(key)
                key = "right_curly_bracket"
                while playback.pending:
                    await pilot.pause(0.02)
                figures = screen.query_one("#inspector-status").figures  # type: ignore[attr-defined]
                rows.append((minute, figures.total, time.perf_counter() - started))
                if playback.cursor >= playback.last:
                    return
                minute += 1

    asyncio.run(run())
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=0.0)
    args = parser.parse_args(argv)
    n = args.messages
    messages: list[Flood] = list(flood(n, "bench/flood"))
    print(f"mqchat record/replay: {n:,} mixed messages")
    print(machine_description(mosquitto_version()))
    with tempfile.TemporaryDirectory(prefix="mqchat-rec-") as tmp:
        folder = Path(tmp)
        out = folder / "flood.mqrec"
        with (
            BenchBroker(folder / "a", nodelay=True) as a,
            BenchBroker(folder / "b", nodelay=True) as b,
        ):
            subprocess.run(
                ["mosquitto_pub", "-p", str(a.port), "-t", READY, "-m", "ready", "-r"], check=True
            )
            rec = subprocess.Popen(
                mqchat("record", "bench/#", "--out", str(out), "-q", "1", "-C", str(n + 1),
                       "--broker", f"mqtt://127.0.0.1:{a.port}"),
                stderr=subprocess.PIPE,
            )  # fmt: skip
            # the retained ready message is recorded and flushed once subscribed
            wait_for(lambda: recorded_any(out), "record subscribing")
            say("recording…")
            started = time.perf_counter()
            published = publish_flood(a.port, messages, timeout=600, over=args.minutes * 60)
            _, err = rec.communicate(timeout=600)
            recorded_in = time.perf_counter() - started
            if rec.returncode != 0:
                raise SystemExit(f"bench: mqchat record failed: {err.decode()}")
            size = out.stat().st_size
            print(f"publish:  {n:,} msgs in {published:.2f} s ({n / published:,.0f} msg/s)")
            print(
                f"record:   {n:,} msgs in {recorded_in:.2f} s ({n / recorded_in:,.0f} msg/s); "
                f"file {size:,} bytes ({size / n:.0f} B/msg)"
            )

            from mqchat.inspector.recording import read_all

            _, recorded, note = read_all(out)
            recorded = [m for m in recorded if m.topic != READY]
            want = per_topic([(m.topic, m.payload) for m in messages])
            same_rec = per_topic([(m.topic, m.payload) for m in recorded]) == want
            retain_ok = {m.topic for m in recorded if m.retain} == {
                m.topic for m in messages if m.retain
            }
            print(
                f"recording = flood per topic: {'yes' if same_rec else 'NO'}; retained topics "
                f"kept: {'yes' if retain_ok else 'NO'}; note: {note or 'none'}"
            )

            sub_out = folder / "sub.jsonl"
            with sub_out.open("wb") as sink:
                sub = subprocess.Popen(
                    mqchat("sub", "replay/#", "-q", "1", "-C", str(n + 2), "--json",
                           "--broker", f"mqtt://127.0.0.1:{b.port}"),
                    stdout=sink,
                )  # fmt: skip
                subprocess.run(
                    ["mosquitto_pub", "-p", str(b.port), "-t", "replay/ready", "-m", "x", "-r"],
                    check=True,
                )
                wait_for(lambda: sub_out.stat().st_size > 0, "sub subscribing")
                say("replaying…")
                started = time.perf_counter()
                replay = subprocess.run(
                    mqchat("replay", str(out), "--broker", f"mqtt://127.0.0.1:{b.port}",
                           "--prefix", "replay", "--speed", "max"),
                    capture_output=True, text=True, timeout=600,
                )  # fmt: skip
                replayed_in = time.perf_counter() - started
                sub.wait(timeout=600)
            got = []
            for line in sub_out.read_text().splitlines():
                obj = json.loads(line)
                if obj["topic"] in ("replay/ready", f"replay/{READY}"):
                    continue
                data = obj["payload"]
                import base64

                payload = (
                    base64.b64decode(data) if obj.get("encoding") == "base64" else data.encode()
                )
                got.append((obj["topic"].removeprefix("replay/"), payload))
            same = per_topic(got) == per_topic([(m.topic, m.payload) for m in recorded])
            print(
                f"replay:   {n:,} msgs in {replayed_in:.2f} s ({n / replayed_in:,.0f} msg/s), "
                f"exit {replay.returncode}: {replay.stderr.strip()}"
            )
            print(
                f"sub -C {n + 2:,} on the second broker: {len(got):,} msgs; same payloads in "
                f"the same order per topic: {'yes' if same else 'NO'}"
            )
        say("scrubbing…")
        rows = scrub(out)
        span = rows[-1][0] if rows else 0
        print(f"offline: {len(rows)} scrubber positions (start + every minute up to {span} min)")
        for minute, shown, seconds in rows:
            print(
                f"  minute {minute:>3}: {shown:>9,} msgs shown, taken in {seconds * 1000:,.0f} ms"
            )
    ok = same_rec and retain_ok and same and replay.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
