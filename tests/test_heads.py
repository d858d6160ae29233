import numpy as np
import pytest

from graphattn import heads

N_LAYERS, N_HEADS, MAX_NODES = 3, 4, 6
SIGNAL = 1 * N_HEADS + 2  # layer 1, head 2: the child attends to its parents
OTHER = 2 * N_HEADS + 1  # layer 2, head 1: used by the split test


def random_dags(rng, n_graphs=40):
    """Random DAGs of 4-6 nodes (edges follow a random node order), padded to MAX_NODES."""
    adj = np.zeros((n_graphs, MAX_NODES, MAX_NODES), dtype=np.uint8)
    n_nodes = rng.integers(4, MAX_NODES + 1, size=n_graphs)
    for g, n in enumerate(n_nodes):
        order = rng.permutation(n)
        for a in range(n):
            for b in range(a + 1, n):
                adj[g, order[a], order[b]] = rng.random() < 0.5
        adj[g, order[0], order[1]] = 1  # at least one edge
    return adj, n_nodes


def real_mask(n_nodes):
    real = np.arange(MAX_NODES)[None, :] < n_nodes[:, None]
    return real[:, :, None] & real[:, None, :]


def synthetic(seed=0):
    """Uniform-noise attention, except channel SIGNAL where x[g, c, j, i] = adj[g, i, j] + small noise."""
    rng = np.random.default_rng(seed)
    adj, n_nodes = random_dags(rng)
    x = rng.random((len(adj), N_LAYERS * N_HEADS, MAX_NODES, MAX_NODES))
    x[:, SIGNAL] = adj.swapaxes(1, 2) + 0.1 * rng.random(adj.shape)
    x *= real_mask(n_nodes)[:, None]  # padding is zero, as in combined datasets
    return {
        "x": x.astype(np.float32), "adj": adj, "n_nodes": n_nodes, "split": np.array([0, 0, 1, 2] * 10),
        "n_layers": np.array(N_LAYERS), "n_heads": np.array(N_HEADS), "graph_id": np.arange(len(adj)),
    }


def chance_accuracy(adj, n_nodes):
    """Expected argmax accuracy of a random head: each node's parents over its n_nodes - 1 candidates."""
    parents = adj.sum(axis=1)
    has_parent = parents > 0
    return (parents / (n_nodes[:, None] - 1))[has_parent].mean()


def test_parent_accuracy_finds_the_planted_head_and_noise_is_at_chance():
    data = synthetic()
    args = data["x"], data["adj"], data["n_nodes"]
    child_to_parent, parent_to_child = (heads.parent_accuracy(*args, d) for d in heads.DIRECTIONS)
    assert child_to_parent.shape == (N_LAYERS * N_HEADS,)
    assert child_to_parent[SIGNAL] >= 0.95
    chance = chance_accuracy(data["adj"], data["n_nodes"])
    # The planted head read backwards (parent_to_child) points to children where there are any: not noise.
    noise = np.r_[np.delete(child_to_parent, SIGNAL), np.delete(parent_to_child, SIGNAL)]
    assert np.all(np.abs(noise - chance) < 0.15), (chance, noise)


def test_head_auroc_separates_edges_only_for_the_planted_head():
    data = synthetic()
    args = data["x"], data["adj"], data["n_nodes"]
    child_to_parent, parent_to_child = (heads.head_auroc(*args, d) for d in heads.DIRECTIONS)
    assert child_to_parent[SIGNAL] >= 0.99
    noise = np.r_[np.delete(child_to_parent, SIGNAL), np.delete(parent_to_child, SIGNAL)]
    assert np.all(np.abs(noise - 0.5) < 0.1), noise


def test_best_head_picks_the_planted_head():
    assert heads.best_head(synthetic()) == {
        "layer": 1, "head": 2, "channel": SIGNAL, "direction": "child_to_parent", "val_parent_acc": 1.0,
    }


def test_best_head_chooses_on_the_given_splits_only():
    data = synthetic()
    rng = np.random.default_rng(1)
    train = data["split"] == 0
    mask = real_mask(data["n_nodes"][train])
    # The child-to-parent head now works on validation and test graphs only, a
    # parent-to-child head on training graphs only.
    data["x"][train, SIGNAL] = rng.random(mask.shape) * mask
    data["x"][train, OTHER] = (data["adj"][train] + 0.1 * rng.random(mask.shape)) * mask
    assert (heads.best_head(data)["channel"], heads.best_head(data)["direction"]) == (SIGNAL, "child_to_parent")
    on_train = heads.best_head(data, train_splits=(0,))
    assert (on_train["layer"], on_train["head"], on_train["direction"]) == (2, 1, "parent_to_child")


def hand_example():
    """Nodes 0 -> 1 -> 2 and one padding slot; one channel; 9 on the diagonal and 50 in padding must be ignored."""
    adj = np.zeros((1, 4, 4), dtype=np.uint8)
    adj[0, 0, 1] = adj[0, 1, 2] = 1
    x = np.array([[9, 0.1, 0.8, 50],
                  [0.2, 9, 0.7, 50],
                  [0.3, 0.6, 9, 50],
                  [50, 50, 50, 50]], dtype=np.float32)[None, None]
    return x, adj, np.array([3])


def test_parent_accuracy_and_auroc_by_hand():
    x, adj, n_nodes = hand_example()
    # child_to_parent reads row j: node 1 attends most to 2 (wrong), node 2 to 1 (right).
    assert heads.parent_accuracy(x, adj, n_nodes, "child_to_parent") == pytest.approx([0.5])
    # parent_to_child reads column j: node 1 is attended most by 2, node 2 by 0: both wrong.
    assert heads.parent_accuracy(x, adj, n_nodes, "parent_to_child") == pytest.approx([0.0])
    # Edge scores x[1, 0] = 0.2 and x[2, 1] = 0.6 against non-edges 0.1, 0.3, 0.8, 0.7:
    # 1 + 2 of the 8 (edge, non-edge) comparisons are won.
    assert heads.head_auroc(x, adj, n_nodes, "child_to_parent") == pytest.approx([3 / 8])


def test_ties_go_to_the_first_node():
    adj = np.zeros((1, 3, 3), dtype=np.uint8)
    adj[0, 0, 1] = adj[0, 0, 2] = 1  # node 0 is the parent of both others
    x = np.ones((1, 1, 3, 3), dtype=np.float32)
    for direction in heads.DIRECTIONS:
        assert heads.parent_accuracy(x, adj, np.array([3]), direction) == pytest.approx([1.0])


def test_padding_and_the_diagonal_are_never_predicted():
    data = synthetic()
    x = data["x"].copy()
    x[~real_mask(data["n_nodes"])[:, None].repeat(x.shape[1], axis=1)] = 100
    x[:, :, np.arange(MAX_NODES), np.arange(MAX_NODES)] = 100
    for direction in heads.DIRECTIONS:
        for score in (heads.parent_accuracy, heads.head_auroc):
            assert np.array_equal(score(x, data["adj"], data["n_nodes"], direction),
                                  score(data["x"], data["adj"], data["n_nodes"], direction))


def test_head_pair_scores_orientation():
    x, _, _ = hand_example()
    graph, src, dst = np.array([0, 0]), np.array([0, 1]), np.array([1, 2])
    assert heads.head_pair_scores(x, graph, src, dst, 0, "child_to_parent") == pytest.approx([0.2, 0.6])
    assert heads.head_pair_scores(x, graph, src, dst, 0, "parent_to_child") == pytest.approx([0.1, 0.7])


def test_unknown_direction_is_refused():
    x, adj, n_nodes = hand_example()
    with pytest.raises(ValueError, match="unknown direction"):
        heads.parent_accuracy(x, adj, n_nodes, "sideways")


def test_head_scores_table():
    table = heads.head_scores(synthetic())
    assert list(table.columns) == ["layer", "head", "parent_acc_child_to_parent", "parent_acc_parent_to_child",
                                   "auroc_child_to_parent", "auroc_parent_to_child"]
    assert len(table) == N_LAYERS * N_HEADS
    assert len(table.drop_duplicates(["layer", "head"])) == N_LAYERS * N_HEADS
    best = table.loc[table["parent_acc_child_to_parent"].idxmax()]
    assert (best["layer"], best["head"]) == (1, 2)  # channel c is layer c // n_heads, head c % n_heads


def test_head_scores_and_the_ablation_ranking_never_read_a_test_graph():
    """Scrambling the attention of the test graphs alone changes neither the head scores nor
    the order in which head_ablation ablates the heads; scrambling a validation graph does."""
    from graphattn.behaviour.runs import ranked_heads

    data = synthetic()
    base = heads.head_scores(data)
    rng = np.random.default_rng(1)
    for split, unchanged in ((2, True), (1, False)):
        scrambled = {**data, "x": data["x"].copy()}
        picked = data["split"] == split
        scrambled["x"][picked] = rng.permutation(scrambled["x"][picked], axis=1)  # heads swapped within graphs
        scores = heads.head_scores(scrambled)
        assert scores.equals(base) is unchanged
        assert (ranked_heads(scores) == ranked_heads(base)) is unchanged
    with pytest.raises(ValueError, match="no graph in splits"):
        heads.head_scores({**data, "split": np.full_like(data["split"], 2)})
