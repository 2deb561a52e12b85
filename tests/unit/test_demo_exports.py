"""A demo without --data-dir runs in a temporary folder: the inspector's exports are
moved out of it, into ./mqchat-demo-exports, before it is deleted."""

from __future__ import annotations

from pathlib import Path

from mqchat.cli.demo import keep_exports


def test_exports_are_moved_out_and_never_overwrite(tmp_path: Path) -> None:
    exports = tmp_path / "demo" / "exports"
    exports.mkdir(parents=True)
    (exports / "inspect-1.jsonl").write_text("one\n")
    (exports / "inspect-2.jsonl").write_text("two\n")
    dest = tmp_path / "cwd" / "mqchat-demo-exports"
    dest.mkdir(parents=True)
    (dest / "inspect-1.jsonl").write_text("from an earlier demo\n")

    assert keep_exports(exports, dest) == dest
    assert sorted(p.name for p in dest.iterdir()) == [
        "inspect-1-1.jsonl",
        "inspect-1.jsonl",
        "inspect-2.jsonl",
    ]
    assert (dest / "inspect-1.jsonl").read_text() == "from an earlier demo\n"
    assert (dest / "inspect-1-1.jsonl").read_text() == "one\n"
    assert list(exports.iterdir()) == []


def test_nothing_exported_leaves_no_folder(tmp_path: Path) -> None:
    dest = tmp_path / "mqchat-demo-exports"
    assert keep_exports(tmp_path / "missing", dest) is None
    (tmp_path / "exports").mkdir()
    assert keep_exports(tmp_path / "exports", dest) is None
    assert not dest.exists()


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path, capsys) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "inspect-1.jsonl").write_text("one\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert keep_exports(exports, blocker / "mqchat-demo-exports") is None
    err = capsys.readouterr().err
    assert err.startswith("mqchat demo: cannot keep the exports in ") and err.count("\n") == 1
    assert (exports / "inspect-1.jsonl").exists()  # left where it was, not lost
