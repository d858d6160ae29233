"""Baselines that see what the probes see: the position baseline against attention that carries
only mention counts and positions, and the best head chosen on the probe's own relation."""

import json

import numpy as np
import pytest
import torch

from graphattn import graphs, prompts
from graphattn.alignment import node_weights
from graphattn.atomic import save_npz
from graphattn.datasets import position_dataset
from graphattn.probes.train import train_probe, train_seeds
from graphattn.relations import relation_matrix
from graphattn.toy import build_tokenizer

# The default config's probes (config/config.yaml with the schema's defaults).
MLP = dict(type="mlp", decoding="threshold", hidden=64, dropout=0.1, lr=0.003, weight_decay=0.0001, epochs=200,
           patience=25)
POSITION = dict(MLP, type="position", learners=["mlp", "trees"], trees_learning_rate=[0.05, 0.1],
                trees_max_leaf_nodes=[15, 31], trees_max_iter=200)
MAX_NODES = 6


def uniform_causal(n_tokens: int) -> np.ndarray:
    """Each token attends equally to itself and every earlier token."""
    causal = np.tril(np.ones((n_tokens, n_tokens)))
    return causal / causal.sum(axis=1, keepdims=True)


def uniform(n_tokens: int) -> np.ndarray:
    return np.full((n_tokens, n_tokens), 1 / n_tokens)


def child_to_parent(n_tokens: int, offsets: np.ndarray, prompt: dict, adj: np.ndarray) -> np.ndarray:
    """Every token of a node's mentions attends equally to every token of its parents' mentions
    (to itself if it has none): the edges, wherever in the text they are written."""
    tokens_of = {}
    for m in prompt["mentions"]:
        lo, hi = offsets[:, 0], offsets[:, 1]
        tokens_of.setdefault(m["node"], set()).update(np.nonzero((hi > lo) & (lo < m["end"]) & (hi > m["start"]))[0])
    pattern = np.eye(n_tokens)
    for child, tokens in tokens_of.items():
        parents = [t for p in np.nonzero(adj[:, child])[0] for t in tokens_of[p]]
        for t in tokens:
            if parents:
                pattern[t] = 0
                pattern[t, parents] = 1 / len(parents)
    return pattern


def hand_made_dataset(path, with_edge_head: bool):
    """The default's `small` graphs in `arrow`, 3 orderings, through the toy's real tokenizer, with
    hand-made heads reduced to node matrices the way the dump reduces them (alignment.node_weights)."""
    made = graphs.generate(3, MAX_NODES, 0.4, 200, seed=11, naming="letters")
    rendered = prompts.render_all(made, "arrow", 3, seed=11)
    prompts_path = str(path.with_suffix(".jsonl"))
    prompts.save(prompts_path, rendered)
    tokenizer = build_tokenizer("letters")
    x = np.zeros((len(made), 3 if with_edge_head else 2, MAX_NODES, MAX_NODES))
    for prompt in prompts.load(prompts_path):
        offsets = np.array(tokenizer(prompt["text"], return_offsets_mapping=True)["offset_mapping"])
        query, key = node_weights(offsets, prompt["mentions"], MAX_NODES)
        n = len(offsets)
        heads = [uniform_causal(n), uniform(n)]
        if with_edge_head:
            heads.append(child_to_parent(n, offsets, prompt, made[prompt["graph_id"]].adjacency()))
        x[prompt["graph_id"]] += np.stack([query[0] @ head @ key.T for head in heads]) / 3  # mean of the orderings
    data = position_dataset(prompts_path, made, MAX_NODES, 0.7, 0.15, 0)
    save_npz(path, x=x.astype(np.float32), **data, n_layers=np.array(1), n_heads=np.array(x.shape[1]))
    return str(path)


def mean_f1(path, tmp_path, probe, hyper):
    return np.mean([train_probe(path, tmp_path / f"{probe}{seed}", probe, hyper, seed)["f1"] for seed in (0, 1)])


@pytest.fixture(scope="module")
def uniform_only(tmp_path_factory):
    return hand_made_dataset(tmp_path_factory.mktemp("uniform") / "d.npz", with_edge_head=False)


def test_attention_that_carries_only_counts_and_positions_does_not_beat_the_position_baseline(uniform_only, tmp_path):
    attention, position = mean_f1(uniform_only, tmp_path, "mlp", MLP), mean_f1(uniform_only, tmp_path, "position", POSITION)
    assert attention <= position + 0.02, (attention, position)


def test_a_head_that_attends_child_to_parent_beats_the_position_baseline_clearly(tmp_path):
    path = hand_made_dataset(tmp_path / "d.npz", with_edge_head=True)
    attention, position = mean_f1(path, tmp_path, "mlp", MLP), mean_f1(path, tmp_path, "position", POSITION)
    assert attention >= 0.99 and attention >= position + 0.05, (attention, position)


def test_the_position_baseline_keeps_the_learner_best_on_validation(uniform_only, tmp_path):
    result = train_probe(uniform_only, tmp_path / "out", "position", POSITION, seed=0)
    val_f1 = result["learners_val_f1"]
    assert set(val_f1) == {"mlp"} | {f"trees(lr={lr}, leaves={leaves})" for lr in (0.05, 0.1) for leaves in (15, 31)}
    assert result["learner"] == max(val_f1, key=val_f1.get)
    assert result["val"]["f1"] == pytest.approx(max(val_f1.values()))  # the chosen learner's validation F1
    # The counts reach the baseline: a node's mentions in an edge list are its degree.
    data = np.load(uniform_only)
    degree = data["adj"].sum(axis=1) + data["adj"].sum(axis=2)
    assert np.array_equal(data["pos_node"][:, 2], degree)


def ancestor_dataset(path, n_graphs=150, seed=0, max_nodes=8):
    """Two heads that the two relations rank the other way round. Channel 0 attends child to a
    parent for 80% of nodes, to a non-ancestor for the rest: parent accuracy 0.8, ancestor 0.8.
    Channel 1 attends to an ancestor that is not a parent where one exists (else a parent):
    ancestor accuracy 1, parent accuracy only on nodes without such an ancestor."""
    rng = np.random.default_rng(seed)
    made = graphs.generate(4, max_nodes, 0.35, n_graphs, seed=seed, naming="letters")
    x = 0.01 * rng.random((n_graphs, 2, max_nodes, max_nodes))
    adj = np.stack([g.adjacency(max_nodes) for g in made])
    ancestors = relation_matrix(adj, "ancestor").astype(bool)
    for g, graph in enumerate(made):
        for child in range(graph.n_nodes):
            parents = np.flatnonzero(adj[g, :, child])
            if not len(parents):
                continue
            others = [i for i in range(graph.n_nodes) if i != child and not ancestors[g, i, child]]
            x[g, 0, child, rng.choice(parents) if rng.random() < 0.8 or not others else rng.choice(others)] = 1
            far = np.flatnonzero(ancestors[g, :, child] & ~adj[g, :, child].astype(bool))
            x[g, 1, child, rng.choice(far) if len(far) else rng.choice(parents)] = 1
    split = np.array([0, 0, 0, 1, 2], dtype=np.int8)[np.arange(n_graphs) % 5]  # train, val, test: 3 : 1 : 1
    save_npz(path, x=x.astype(np.float32), adj=adj, n_nodes=np.array([g.n_nodes for g in made]), split=split,
             graph_id=np.arange(n_graphs), n_layers=np.array(1), n_heads=np.array(2))
    return str(path)


def test_best_head_is_chosen_on_the_relations_own_labels(tmp_path):
    path = ancestor_dataset(tmp_path / "d.npz")
    hyper = dict(type="best_head", decoding="threshold")
    chosen = {}
    for relation in ("parent", "ancestor"):
        (result,) = train_seeds(path, {0: tmp_path / relation}, "best_head", hyper, relation=relation)
        state = torch.load(tmp_path / relation / "best_model.pt", weights_only=True)["state_dict"]
        chosen[relation] = int(state["head"])
        assert result["relation"] == relation
    assert chosen == {"parent": 0, "ancestor": 1}
    history = json.loads((tmp_path / "ancestor/metrics.json").read_text())
    assert history["parent_acc"] >= 0.95  # on test graphs, the ancestor head finds an ancestor for every node
