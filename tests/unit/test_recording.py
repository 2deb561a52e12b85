"""The flight recorder's file (docs/recording.md): what goes in comes out byte for
byte; a frame cut short by a crash is the end, with a note; damage is found by the
CRC; anything that is not a recording is refused in one line (``inspect --open``,
``replay``: exit 1, no traceback); the recorder's thread writes every batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mqchat.core.message import Message
from mqchat.inspector.playback import Playback
from mqchat.inspector.recorder import Recorder, RecorderError
from mqchat.inspector.recording import MAGIC, RecordingError, open_recording, read_all
from mqchat.widgets.inspector.scrubber import ScrubberFigures, duration, scrubber_line
from tests.support.recordings import write_recording

ROOT = Path(__file__).resolve().parents[2]

MESSAGES = [
    Message("a/b", bytes(range(256)), 0, False, None, 1_800_000_000.25),
    Message("a/empty", b"", 1, True, None, 1_800_000_000.5),
    Message(
        "a/props",
        b"\x00{}",
        2,
        False,
        {"ContentType": "x", "UserProperty": [("k", "v"), ("k", "w")], "CorrelationData": "01ff"},
        1_800_000_001.0,
    ),
    Message("a/cut", b"12345", 0, False, None, 1_800_000_002.0, 70_000),
    Message("[red]ünï\x1b[0m", b"\xff\xfe", 0, False, None, 1_800_000_003.0),
]


def test_what_goes_in_comes_out_exactly(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.mqrec", MESSAGES, frame=2, header={"broker": "b:1"})
    header, messages, note = read_all(path)
    assert messages == MESSAGES
    assert note is None
    assert header["broker"] == "b:1" and header["writer"].startswith("mqchat ")
    assert path.read_bytes().startswith(MAGIC + b"\x00\x01")
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "r.mqrec"
    path.write_bytes(b"precious")
    with pytest.raises(RecorderError, match=r"cannot record to .*exists"):
        Recorder(path, {})
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize("cut", [1, 5, 9, 20])
def test_a_frame_cut_short_ends_the_recording_with_a_note(tmp_path: Path, cut: int) -> None:
    path = write_recording(tmp_path / "r.mqrec", MESSAGES, frame=2)
    last_frame = write_recording(tmp_path / "first4.mqrec", MESSAGES[:4], frame=2).stat().st_size
    path.write_bytes(path.read_bytes()[: last_frame + cut])  # the header: 8 bytes
    _, messages, note = read_all(path)
    assert messages == MESSAGES[:4]
    assert note is not None and "cut short" in note and "ignored" in note


def test_damage_is_found_and_what_came_before_is_kept(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.mqrec", MESSAGES, frame=2)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the last frame's body: its CRC no longer matches
    path.write_bytes(bytes(data))
    _, messages, note = read_all(path)
    assert messages == MESSAGES[:4]
    assert note is not None and "damaged at byte" in note


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is not an mqchat recording"),
        (b"hello, world\n" * 10, "is not an mqchat recording"),
        (MAGIC + b"\x00\x07", "format version 7; this mqchat reads 1"),
        (MAGIC + b"\x00\x01\x00\x00\x00\x05", "header is damaged or missing"),
    ],
)
def test_not_a_recording_is_one_clear_error(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "x.mqrec"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=says):
        open_recording(path)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"cannot read .*No such file"):
        open_recording(tmp_path / "nope.mqrec")


def test_a_value_of_the_wrong_type_is_damage_not_a_crash(tmp_path: Path) -> None:
    bad = [*MESSAGES[:2], Message("a/q", b"x", 7, False, None, 1.0)]  # QoS 7
    path = write_recording(tmp_path / "r.mqrec", bad, frame=2)
    _, messages, note = read_all(path)
    assert messages == MESSAGES[:2]
    assert note is not None and "damaged" in note


@pytest.mark.parametrize("command", [["inspect", "--open"], ["replay"]])
def test_the_cli_refuses_a_bad_file_in_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "evil\x1b[31m.mqrec"
    path.write_bytes(b"GIF89a")
    done = subprocess.run(
        [sys.executable, "-m", "mqchat", *command, str(path), "--broker", "mqtt://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "is not an mqchat recording" in lines[0] and "\x1b" not in lines[0]


def test_the_recorder_thread_writes_every_batch(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "rec" / "r.mqrec", {"source": "test"})
    for i in range(100):
        recorder.add(
            [
                Message(f"t/{i % 3}", b"%d" % n, 0, False, None, float(n))
                for n in range(i * 10, i * 10 + 10)
            ]
        )
    recorder.add([])
    recorder.close()
    assert recorder.count == recorder.written == 1000 and recorder.error is None
    _, messages, note = read_all(tmp_path / "rec" / "r.mqrec")
    assert [m.payload for m in messages] == [b"%d" % n for n in range(1000)] and note is None


def test_playback_seeks_forward_without_starting_over_and_back_with() -> None:
    playback = Playback("r", [m._replace(ts=float(i)) for i, m in enumerate(MESSAGES)])
    assert playback.cursor == 4.0 and playback.pending == 5
    assert playback.seek(-10) is False and playback.cursor == 0.0 and playback.pending == 1
    assert len(playback.take(10)) == 1
    assert playback.seek(2.5) is False and [m.topic for m in playback.take(10)] == [
        "a/empty",
        "a/props",
    ]
    assert playback.seek(0.5) is True  # taken ones lie after it: start again
    assert [m.topic for m in playback.take(10)] == ["a/b"]
    assert playback.count_between(1.0, 3.0) == 2


def test_the_scrubber_line_fits_and_says_where_it_is() -> None:
    figures = ScrubberFigures(first=0.0, last=300.0, cursor=150.0, shown=10, total=20)
    line = scrubber_line(figures, 80, lambda since, until: 1 if since < 100 else 0)
    assert line.cell_len == 80
    assert "+02:30 / 05:00 · 10 of 20 msgs" in line.plain
    assert duration(3725) == "1:02:05" and duration(59.9) == "00:59"


def test_a_disk_that_fills_stops_the_recorder_and_keeps_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = tmp_path / "full.mqrec"
    recorder = Recorder(full, {"source": "test"})
    writer = recorder._writer
    write, calls = writer.write, []

    def then_no_space(batch: list[Message]) -> None:  # the first batch fits, no other
        calls.append(len(batch))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        write(batch)

    monkeypatch.setattr(writer, "write", then_no_space)
    recorder.add(MESSAGES[:2])
    recorder.add(MESSAGES[2:])
    recorder.close()
    assert recorder.error == f"recording to {full} stopped: No space left on device"
    recorder.add(MESSAGES)  # refused from now on
    assert recorder.count == len(MESSAGES)
    _, kept, note = read_all(full)
    assert kept == MESSAGES[:2] and note is None
