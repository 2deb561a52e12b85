"""How long a chat message takes from send_text() until the peer has it stored, next
to aiomqtt's own QoS 1 trip through the same private mosquitto in the same run.

    .venv/bin/python bench/chat_latency.py [--messages N] [--warmup K] [--gap-ms MS]

The report goes to stdout, progress to stderr. Exit status 0; 1 when a message was
lost or the broker could not start. bench/README.md says what each figure means."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: neither bench nor mqchat is installed
    sys.path.insert(0, str(ROOT))

from bench._broker import BenchBroker, mosquitto_version  # noqa: E402
from bench._chat import CHAT_BURST, CHAT_STORED, chat_phase, merged, sealed_label  # noqa: E402
from bench._common import BODY_CHARS, BenchError, Config, body_for  # noqa: E402
from bench._first_frame import first_frame_phase  # noqa: E402
from bench._raw import RAW, raw_phase  # noqa: E402
from bench._report import (  # noqa: E402
    latency_table,
    machine_description,
    ratio_line,
    sealed_line,
    startup_table,
    throughput_table,
)
from mqchat.core.envelope import Text, encode_envelope  # noqa: E402


def settle_heap() -> None:
    """Before each phase: collect what the phases before it left (their clients,
    connections and samples) and set the rest aside from the collector, as
    ``mqchat chat`` does once loaded. Otherwise a phase pays for a full collection
    of the one before, at a moment that varies from run to run (seen: 0.3 s once,
    in the middle of a sealed burst of 0.7 s)."""
    gc.collect()
    gc.freeze()


async def run(broker: BenchBroker, data_dir: Path, cfg: Config) -> str:
    """Both paths, one after the other, then the report."""
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError):  # SIGTERM cleans up like Ctrl+C
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    ns = f"bench{uuid.uuid4().hex[:10]}"
    size = len(encode_envelope(Text.new("alice", "bob", body_for(0))))
    settle_heap()
    raw = await raw_phase(broker, ns, size, cfg)
    # Plain and sealed take turns, the order swapped each round, so whatever else the
    # machine does meanwhile weighs on both alike.
    plain_rounds, sealed_rounds = [], []
    for r in range(cfg.rounds):
        for sealed_now in (False, True) if r % 2 == 0 else (True, False):
            where, phase_ns = data_dir / f"{r}-{sealed_now}", f"{ns}{r}{int(sealed_now)}"
            settle_heap()
            done = await chat_phase(broker, phase_ns, where, cfg, sealed=sealed_now)
            (sealed_rounds if sealed_now else plain_rounds).append(done)
    chat, sealed = merged(plain_rounds), merged(sealed_rounds)
    first = None
    if cfg.history:
        work = data_dir.parent / "first-frame"
        first = await first_frame_phase(broker, ns, work, cfg.history, cfg.starts, cfg.timeout)

    rows = raw.latency + chat.latency + sealed.latency
    by_label = {row.label: row for row in rows}
    bursts = raw.bursts + chat.bursts + sealed.bursts
    burst_by_label = {row.label: row for row in bursts}
    pace = f"{cfg.gap * 1000:g} ms apart" if cfg.gap else "back to back"
    parts = [
        f"mqchat chat latency: {cfg.messages} messages one at a time ({pace}) after "
        f"{cfg.warmup} warm-up, bodies of {BODY_CHARS} chars ({size} B on the wire), "
        f"QoS 1, MQTT 5; the chat path {cfg.rounds}× plain and {cfg.rounds}× sealed, taking turns"
        + ("" if cfg.broker_nodelay else ", broker without set_tcp_nodelay (Nagle on)"),
        machine_description(mosquitto_version()),
        "",
        latency_table("latency, one message at a time (ms)", rows, chat.missing | sealed.missing),
        "",
        ratio_line(by_label[CHAT_STORED], by_label[RAW]),
        sealed_line(
            by_label[sealed_label(CHAT_STORED)],
            by_label[CHAT_STORED],
            burst_by_label[sealed_label(CHAT_BURST)],
            burst_by_label[CHAT_BURST],
        ),
        "",
        throughput_table(f"burst of {cfg.messages}, not waiting for arrivals", bursts),
    ]
    if first is not None:
        parts += ["", startup_table(f"first frame, {cfg.starts} starts (s)", [first])]
    if chat.notes or sealed.notes:
        parts += ["", *(f"note: {note}" for note in chat.notes + sealed.notes)]
    return "\n".join(parts)


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages",
        type=int,
        default=1000,
        metavar="N",
        help="measured messages per path, and the size of each burst (default 1000)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=50,
        metavar="K",
        help="messages sent first on each path and not measured (default 50)",
    )
    parser.add_argument(
        "--gap-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="quiet time before each one-at-a-time message, as between typed lines "
        "(default 0: back to back)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for one message or event (default 10)",
    )
    parser.add_argument(
        "--broker-nagle",
        action="store_true",
        help="run mosquitto without set_tcp_nodelay true, which every mosquitto.conf "
        "mqchat writes sets (Nagle's algorithm on the broker's side)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=1_000_000,
        metavar="N",
        help="messages in the history that `mqchat chat bob` opens for the first-frame "
        "figure (default 1000000; 0 skips it)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="R",
        help="rounds of the chat path, plain and sealed (end-to-end encryption) taking "
        "turns (default 3)",
    )
    parser.add_argument(
        "--starts",
        type=int,
        default=3,
        metavar="K",
        help="measured starts of `mqchat chat bob` (after one that is not; default 3)",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.warmup < 0 or args.gap_ms < 0 or args.timeout <= 0:
        parser.error("need --messages ≥ 1, --warmup ≥ 0, --gap-ms ≥ 0 and --timeout > 0")
    if args.history < 0 or args.starts < 1 or args.rounds < 1:
        parser.error("need --history ≥ 0, --starts ≥ 1 and --rounds ≥ 1")
    nodelay = not args.broker_nagle
    return Config(
        args.messages,
        args.warmup,
        args.timeout,
        args.gap_ms / 1000,
        nodelay,
        history=args.history,
        starts=args.starts,
        rounds=args.rounds,
    )


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    if shutil.which("mosquitto") is None:
        print("mosquitto is not installed (apt-get install -y mosquitto)", file=sys.stderr)
        return 1
    try:
        with (
            tempfile.TemporaryDirectory(prefix="mqchat-bench-") as tmp,
            BenchBroker(Path(tmp) / "broker", nodelay=cfg.broker_nodelay) as broker,
        ):
            report = asyncio.run(run(broker, Path(tmp) / "data", cfg))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except asyncio.CancelledError:  # SIGTERM, see run()
        print("terminated", file=sys.stderr)
        return 143
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
