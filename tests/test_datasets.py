import json

import numpy as np
import pytest

from graphattn import datasets, graphs


def test_split_is_by_graph_seeded_and_complete():
    split = datasets.split_graphs(100, 0.7, 0.15, seed=3)
    assert np.array_equal(split, datasets.split_graphs(100, 0.7, 0.15, seed=3))
    assert np.bincount(split).tolist() == [70, 15, 15]
    assert set(datasets.split_graphs(3, 0.7, 0.15, seed=0)) == {0, 1, 2}
    with pytest.raises(ValueError, match="at least 3 graphs"):
        datasets.split_graphs(2, 0.7, 0.15, seed=0)


def test_combine_averages_orderings_and_splits_share_no_graph(tmp_path):
    made = graphs.generate(3, 5, 0.5, 12, seed=0, naming="letters")
    orderings, L, H, N = 2, 1, 2, 5
    graph_id = [g.id for g in made for _ in range(orderings)]
    dump = np.zeros((len(graph_id), 3, L, H, N, N), dtype=np.float16)
    for p, gid in enumerate(graph_id):
        dump[p] = gid + p % orderings  # orderings 0 and 1 differ by one; their mean is gid + 0.5
    np.save(tmp_path / "d.npy", dump)
    meta = {"selections": ["all", "source", "target"], "n_layers": L, "n_heads": H, "graph_id": graph_id}
    (tmp_path / "d.json").write_text(json.dumps(meta))

    data = datasets.combine(str(tmp_path / "d.npy"), str(tmp_path / "d.json"), made, N, "target", 0.5, 0.25, seed=1)
    assert data["x"].shape == (12, L * H, N, N)
    assert np.allclose(data["x"][:, 0, 0, 0], data["graph_id"] + 0.5)
    assert np.array_equal(data["adj"][4], made[4].adjacency(N))
    ids_by_split = [set(data["graph_id"][data["split"] == s]) for s in range(3)]
    assert all(ids_by_split) and not (ids_by_split[0] & ids_by_split[1] | ids_by_split[0] & ids_by_split[2]
                                      | ids_by_split[1] & ids_by_split[2])
    datasets.save(tmp_path / "ds.npz", data)
    assert datasets.load(tmp_path / "ds.npz")["x"].shape == data["x"].shape


def test_atomic_outputs_get_normal_permissions(tmp_path):
    from graphattn.atomic import write_text

    write_text(tmp_path / "out.txt", "x")
    assert (tmp_path / "out.txt").stat().st_mode & 0o044 == 0o044  # readable by group and others
    assert [f.name for f in tmp_path.iterdir()] == ["out.txt"]
