import json

import numpy as np
import pytest

from graphattn import datasets, graphs, prompts
from graphattn.positions import NODE_FEATURES, OFFSETS, PAIR_FEATURES, prompt_positions


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
    rendered = prompts.render_all(made, "arrow", orderings, seed=0)
    prompts.save(tmp_path / "p.jsonl", rendered)
    graph_id = [p.graph_id for p in rendered]
    dump = np.zeros((len(graph_id), 3, L, H, N, N), dtype=np.float16)
    for p, gid in enumerate(graph_id):
        dump[p] = gid + p % orderings  # orderings 0 and 1 differ by one; their mean is gid + 0.5
    np.save(tmp_path / "d.npy", dump)
    meta = {"selections": ["all", "source", "target"], "n_layers": L, "n_heads": H, "graph_id": graph_id}
    (tmp_path / "d.json").write_text(json.dumps(meta))

    data = datasets.combine(str(tmp_path / "d.npy"), str(tmp_path / "d.json"), str(tmp_path / "p.jsonl"),
                            made, N, "target", 0.5, 0.25, seed=1)
    assert data["x"].shape == (12, L * H, N, N)
    assert data["pos_node"].shape == (12, len(NODE_FEATURES), N) and data["pos_pair"].shape == (12, len(PAIR_FEATURES), N, N)
    assert np.allclose(data["x"][:, 0, 0, 0], data["graph_id"] + 0.5)
    assert np.array_equal(data["adj"][4], made[4].adjacency(N))
    ids_by_split = [set(data["graph_id"][data["split"] == s]) for s in range(3)]
    assert all(ids_by_split) and not (ids_by_split[0] & ids_by_split[1] | ids_by_split[0] & ids_by_split[2]
                                      | ids_by_split[1] & ids_by_split[2])
    datasets.save(tmp_path / "ds.npz", data)
    assert datasets.load(tmp_path / "ds.npz")["x"].shape == data["x"].shape


def test_combine_refuses_a_dump_whose_rows_do_not_follow_the_prompts(tmp_path):
    made = graphs.generate(3, 4, 0.5, 3, seed=0, naming="letters")
    prompts.save(tmp_path / "p.jsonl", prompts.render_all(made, "arrow", 1, seed=0))
    np.save(tmp_path / "d.npy", np.zeros((3, 1, 1, 1, 4, 4), dtype=np.float16))
    meta = {"selections": ["all"], "n_layers": 1, "n_heads": 1, "graph_id": [0, 2, 1]}
    (tmp_path / "d.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="line 2 is graph 1, the dump's row is graph 2"):
        datasets.combine(str(tmp_path / "d.npy"), str(tmp_path / "d.json"), str(tmp_path / "p.jsonl"),
                         made, 4, "all", 0.5, 0.25, seed=1)


def test_positions_of_an_edge_list():
    # "A -> C, B -> C, C -> D": mentions A C B C C D (nodes 0 2 1 2 2 3)
    graph = graphs.Graph(id=0, nodes=["A", "B", "C", "D"], edges=[(0, 2), (1, 2), (2, 3)])
    prompt = prompts.Prompt(graph_id=0, ordering=0, n_nodes=4)
    prompts.render_arrow(prompt, graph, graph.edges)
    assert prompt.text == "A -> C, B -> C, C -> D"
    from dataclasses import asdict

    node, pair = prompt_positions(asdict(prompt), max_nodes=5)
    assert node[0].tolist() == [0.0, 2 / 3, 1 / 3, 1.0, 0.0]  # first mentions: A, C, B, D
    assert node[1, 0] == 0.0 and node[1, 3] == pytest.approx(21 / 22)
    before = pair[OFFSETS.index(-1)]
    # C's three mentions are preceded by A, B and C; D's one mention by C.
    assert before[0, 2] == pytest.approx(1 / 3) and before[1, 2] == pytest.approx(1 / 3)
    assert before[2, 3] == 1.0 and before[:, 0].sum() == 0.0  # nothing precedes the first mention
    # What attention carries for free: mention counts (degrees here) and a uniform causal head's shares.
    assert node[2].tolist() == [1, 1, 3, 1, 0]
    share = pair[PAIR_FEATURES.index("before_share")]
    assert share[3].tolist() == pytest.approx([1 / 5, 1 / 5, 3 / 5, 0, 0])  # D's mention follows A C B C C
    assert share[2, 0] == pytest.approx((1 + 1 / 3 + 1 / 4) / 3)  # C's mentions follow A; A C B; A C B C
    assert share[0].sum() == 0.0  # A is mentioned first


def test_atomic_outputs_get_normal_permissions(tmp_path):
    from graphattn.atomic import write_text

    write_text(tmp_path / "out.txt", "x")
    assert (tmp_path / "out.txt").stat().st_mode & 0o044 == 0o044  # readable by group and others
    assert [f.name for f in tmp_path.iterdir()] == ["out.txt"]
