import numpy as np
import pytest

from graphattn.sparsify import arg_k, parse_k, sparsify_file


def test_arg_k_keeps_exactly_k_entries_per_real_row():
    rng = np.random.default_rng(0)
    x = np.zeros((2, 3, 4, 8, 8), dtype=np.float16)
    x[..., :6, :6] = rng.random((2, 3, 4, 6, 6))
    out = arg_k(x, n_nodes=6, k=3)
    assert ((out[..., :6, :6] != 0).sum(-1) == 3).all()
    assert (out[..., 6:, :] == 0).all() and (out[..., :, 6:] == 0).all()
    # The kept entries are the row's three largest, unchanged.
    kept = np.sort(out[..., :6, :6], axis=-1)[..., -3:]
    assert np.array_equal(kept, np.sort(x[..., :6, :6], axis=-1)[..., -3:])


def test_arg_k_larger_than_graph_keeps_whole_rows():
    x = np.random.default_rng(1).random((4, 4)).astype(np.float32)
    assert np.array_equal(arg_k(x, n_nodes=4, k=9), x)


def test_parse_k():
    assert parse_k("none") is None and parse_k(3) == 3 and parse_k("1") == 1
    with pytest.raises(ValueError, match="positive integer"):
        parse_k(0)


def test_sparsify_file_streams_and_matches(tmp_path):
    rng = np.random.default_rng(2)
    dense = rng.random((5, 3, 2, 2, 6, 6)).astype(np.float16)
    n_nodes = [3, 6, 4, 5, 6]
    for p, n in enumerate(n_nodes):
        dense[p, ..., n:, :] = 0
        dense[p, ..., :, n:] = 0
    np.save(tmp_path / "dense.npy", dense)
    sparsify_file(str(tmp_path / "dense.npy"), str(tmp_path / "k1.npy"), n_nodes, 1, chunk=2)
    out = np.load(tmp_path / "k1.npy")
    for p, n in enumerate(n_nodes):
        assert ((out[p, ..., :n, :] != 0).sum(-1) == 1).all()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["dense.npy", "k1.npy"]
