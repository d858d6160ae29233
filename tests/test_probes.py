"""Probes on synthetic datasets where the answer is known."""

import json

import numpy as np
import pytest
import torch

from graphattn import graphs
from graphattn.atomic import save_npz
from graphattn.datasets import split_graphs
from graphattn.metrics import chance_f1
from graphattn.pairs import pair_features, pair_index
from graphattn.probes.train import train_probe

HYPER = {
    "mlp": dict(hidden=32, dropout=0.1, lr=0.01, weight_decay=0.0, epochs=150, patience=30),
    "gcn": dict(hidden=32, layers=2, dropout=0.1, lr=0.01, weight_decay=0.0, epochs=150, patience=30,
                edge_weight="attention"),
}


def synthetic(path, signal: bool, seed=0, n_graphs=120, channels=12, max_nodes=8):
    """Noise attention; with ``signal``, channel 5 is the child -> parent adjacency plus noise."""
    rng = np.random.default_rng(seed)
    made = graphs.generate(4, max_nodes, 0.35, n_graphs, seed=seed, naming="letters")
    x = np.zeros((n_graphs, channels, max_nodes, max_nodes), dtype=np.float32)
    for g, graph in enumerate(made):
        n = graph.n_nodes
        x[g, :, :n, :n] = rng.random((channels, n, n)) * 0.5
        if signal:
            x[g, 5, :n, :n] = graph.adjacency().T + 0.1 * rng.random((n, n))  # child attends to parent
    save_npz(path, x=x, adj=np.stack([g.adjacency(max_nodes) for g in made]),
             n_nodes=np.array([g.n_nodes for g in made]), split=split_graphs(n_graphs, 0.6, 0.2, seed),
             graph_id=np.arange(n_graphs), n_layers=np.array(3), n_heads=np.array(4))
    return path


def test_pair_features_hold_both_directions():
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    data = {"x": x, "adj": np.zeros((2, 4, 4), np.uint8), "n_nodes": np.array([3, 4]), "split": np.array([0, 2])}
    pairs = pair_index(data)
    assert len(pairs.src) == 3 * 2 + 4 * 3 and (pairs.src != pairs.dst).all()
    feats = pair_features(x, pairs)
    p = np.flatnonzero((pairs.graph == 1) & (pairs.src == 0) & (pairs.dst == 2))[0]
    assert feats.shape == (18, 6)
    assert feats[p].tolist() == x[1, :, 0, 2].tolist() + x[1, :, 2, 0].tolist()
    assert set(pairs.split.tolist()) == {0, 2}


@pytest.mark.parametrize("probe", sorted(HYPER))
def test_probe_recovers_a_planted_head(tmp_path, probe):
    path = synthetic(tmp_path / "d.npz", signal=True)
    result = train_probe(str(path), tmp_path / "out", probe, HYPER[probe], seed=0)
    assert result["f1"] >= 0.95 and result["converged"]
    saved = json.loads((tmp_path / "out/metrics.json").read_text())
    assert saved["f1"] == result["f1"]
    history = (tmp_path / "out/history.csv").read_text().splitlines()
    assert history[0] == "epoch,train_loss,val_loss,val_f1,val_auroc" and len(history) == result["epochs_run"] + 1
    checkpoint = torch.load(tmp_path / "out/best_model.pt", weights_only=True)
    assert checkpoint["probe"] == probe and checkpoint["state_dict"]


@pytest.mark.parametrize("probe", sorted(HYPER))
def test_probe_on_noise_stays_near_chance(tmp_path, probe):
    path = synthetic(tmp_path / "d.npz", signal=False)
    result = train_probe(str(path), tmp_path / "out", probe, HYPER[probe], seed=0)
    assert result["f1"] <= chance_f1(result["positive_rate"]) + 0.15
    assert result["auroc"] < 0.65


def test_same_seed_same_metrics(tmp_path):
    path = synthetic(tmp_path / "d.npz", signal=True, n_graphs=60)
    a = train_probe(str(path), tmp_path / "a", "gcn", HYPER["gcn"], seed=3)
    b = train_probe(str(path), tmp_path / "b", "gcn", HYPER["gcn"], seed=3)
    assert a == b
    assert (tmp_path / "a/history.csv").read_text() == (tmp_path / "b/history.csv").read_text()


def test_unknown_probe_is_named(tmp_path):
    path = synthetic(tmp_path / "d.npz", signal=True, n_graphs=10)
    with pytest.raises(ValueError, match="unknown probe 'svm'; accepted: \\['gcn', 'mlp'\\]"):
        train_probe(str(path), tmp_path / "out", "svm", {}, seed=0)
