import json

import numpy as np
import pytest

from graphattn import datasets, graphs, prompts
from graphattn.positions import NODE_FEATURES, OFFSETS, PAIR_FEATURES, prompt_positions


def test_split_is_seeded_and_refuses_too_few_graphs():
    split = datasets.split_graphs(100, 0.7, 0.15, seed=3)
    assert np.array_equal(split, datasets.split_graphs(100, 0.7, 0.15, seed=3))  # the same seed reproduces it
    other = datasets.split_graphs(100, 0.7, 0.15, seed=4)
    # Another seed moves graphs between splits, in the same proportions.
    assert np.bincount(other).tolist() == np.bincount(split).tolist() and (other != split).sum() > 10
    assert not np.array_equal(split[:70], np.zeros(70))  # shuffled, not the first graphs for training
    with pytest.raises(ValueError, match="at least 3 graphs"):
        datasets.split_graphs(2, 0.7, 0.15, seed=0)
    with pytest.raises(ValueError, match="split fractions"):
        datasets.split_graphs(10, 0.9, 0.15, seed=0)


@pytest.mark.parametrize("train, val", [(0.7, 0.15), (0.5, 0.25), (0.8, 0.1)])
@pytest.mark.parametrize("n", [3, 4, 7, 12, 20, 57, 200])
def test_split_fractions_hold_and_no_split_is_empty(n, train, val):
    counts = np.bincount(datasets.split_graphs(n, train, val, seed=n), minlength=3)
    assert counts.sum() == n and (counts >= 1).all()
    if n >= 20:  # where no split is forced up to its one graph, each is within a graph of its share
        assert np.abs(counts - n * np.array([train, val, 1 - train - val])).max() <= 1


def write_dump(folder, made, orderings, n_layers, n_heads, max_nodes, seed=0):
    """A prompts file of ``made`` and a dump of it (each prompt's value: its graph id + its
    ordering + 100 x the selection), as rule dump_attention writes them; returns (dump, meta, prompts)."""
    folder.mkdir(parents=True, exist_ok=True)
    rendered = prompts.render_all(made, "arrow", orderings, seed=seed)
    prompts.save(folder / "p.jsonl", rendered)
    graph_id = [p.graph_id for p in rendered]
    dump = np.zeros((len(graph_id), 3, n_layers, n_heads, max_nodes, max_nodes), dtype=np.float16)
    for p, gid in enumerate(graph_id):
        for s in range(3):
            dump[p, s] = gid + p % orderings + 100 * s
    np.save(folder / "d.npy", dump)
    meta = {"selections": ["all", "source", "target"], "n_layers": n_layers, "n_heads": n_heads, "graph_id": graph_id}
    (folder / "d.json").write_text(json.dumps(meta))
    return str(folder / "d.npy"), str(folder / "d.json"), str(folder / "p.jsonl")


def split_of(dataset):
    """graph id -> its split; fails if a graph has two rows (and so, possibly, two splits)."""
    ids = dataset["graph_id"].tolist()
    assert len(set(ids)) == len(ids)
    return dict(zip(ids, dataset["split"].tolist()))


def test_combine_averages_orderings_into_one_row_per_graph(tmp_path):
    made = graphs.generate(3, 5, 0.5, 12, seed=0, naming="letters")
    L, H, N = 1, 2, 5
    dump, meta, prompt_path = write_dump(tmp_path, made, 2, L, H, N)
    data = datasets.combine(dump, meta, prompt_path, made, N, "target", 0.5, 0.25, seed=1)
    assert data["x"].shape == (12, L * H, N, N)
    assert data["pos_node"].shape == (12, len(NODE_FEATURES), N) and data["pos_pair"].shape == (12, len(PAIR_FEATURES), N, N)
    # Orderings 0 and 1 differ by one; their mean is the graph id + 0.5 (+ 200 for "target").
    assert np.allclose(data["x"][:, 0, 0, 0], data["graph_id"] + 200.5)
    assert sorted(data["graph_id"].tolist()) == [g.id for g in made]  # every graph once, its orderings in its row
    assert np.array_equal(data["adj"][4], made[4].adjacency(N))
    datasets.save(tmp_path / "ds.npz", data)
    assert datasets.load(tmp_path / "ds.npz")["x"].shape == data["x"].shape


def test_the_split_is_by_graph_the_same_in_every_dataset_of_a_graph_set(tmp_path):
    """Every selection, k, model and the position baseline test on the same graphs, however many
    orderings a graph has: no graph is in one split in one dataset and in another split in another."""
    from graphattn.sparsify import sparsify_file

    made = graphs.generate(3, 5, 0.5, 20, seed=2, naming="letters")
    N, split = 5, (0.5, 0.25, 7)
    dump, meta, prompt_path = write_dump(tmp_path / "m", made, 2, 1, 2, N)
    n_nodes = [made[gid].n_nodes for gid in json.loads(open(meta).read())["graph_id"]]
    sparse = str(tmp_path / "m" / "k1.npy")
    sparsify_file(dump, sparse, n_nodes, 1)
    other_model = write_dump(tmp_path / "m2", made, 2, 3, 4, N)  # another model's dump of the same prompts
    more_orderings = write_dump(tmp_path / "o3", made, 3, 1, 2, N, seed=5)  # the prompts drawn anew, 3 orderings
    splits = [split_of(datasets.combine(*paths, made, N, selection, *split)) for paths, selection in [
        ((dump, meta, prompt_path), "all"), ((dump, meta, prompt_path), "target"), ((sparse, meta, prompt_path), "all"),
        (other_model, "source"), (more_orderings, "all")]]
    splits.append(split_of(datasets.position_dataset(prompt_path, made, N, *split)))
    splits.append(split_of(datasets.position_dataset(more_orderings[2], made, N, *split)))
    assert all(s == splits[0] for s in splits[1:])
    assert sorted(splits[0]) == [g.id for g in made] and set(splits[0].values()) == {0, 1, 2}
    # Recomputed from the graph ids alone, the split is the same.
    ids = sorted(splits[0])
    assert dict(zip(ids, datasets.split_graphs(len(ids), *split).tolist())) == splits[0]
    # Another split seed moves graphs between splits; the same one reproduces them.
    moved = split_of(datasets.position_dataset(prompt_path, made, N, 0.5, 0.25, 8))
    assert moved != splits[0] and sorted(moved.values()) == sorted(splits[0].values())
    assert split_of(datasets.position_dataset(prompt_path, made, N, *split)) == splits[0]


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
