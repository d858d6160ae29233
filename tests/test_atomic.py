"""Outputs appear whole or not at all."""

import pytest

from graphattn.atomic import atomic_path, write_text


def test_a_writer_that_fails_leaves_neither_the_output_nor_its_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.csv") as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_the_output_appears_only_when_complete(tmp_path):
    with atomic_path(tmp_path / "out.csv") as tmp:
        tmp.write_text("a,b\n")
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.") and tmp.name.endswith(".tmp.csv")
        assert not (tmp_path / "out.csv").exists()
    assert (tmp_path / "out.csv").read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_stale_temporaries_of_the_same_output_are_removed(tmp_path):
    # What a SIGKILL'd job leaves behind; other outputs' temporaries are not touched.
    (tmp_path / ".dense.abc123.tmp.npy").write_bytes(b"x" * 100)
    (tmp_path / ".k1.abc123.tmp.npy").write_bytes(b"x")
    write_text(tmp_path / "dense.npy", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".k1.abc123.tmp.npy", "dense.npy"]


def test_hold_hook_delays_the_rename_of_matching_outputs_only(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("GRAPHATTN_HOLD_WRITES", r"held\.json$=0.3")
    start = time.monotonic()
    write_text(tmp_path / "other.json", "{}")
    assert time.monotonic() - start < 0.25
    write_text(tmp_path / "held.json", "{}")
    assert time.monotonic() - start >= 0.3
