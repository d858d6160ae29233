"""Why the seed notes' GCN flatlined: one factor at a time, on a dataset of the run.

    python scripts/gcn_diagnosis.py [results/datasets/minilm/small/arrow/all/knone.npz]

Trains each GCN variant below with seeds 0 and 1 (a few minutes on 2 cores) and prints
test F1, AUROC and best epochs as a markdown table. docs/results.md
quotes it. Settings not named in a variant are the default config's.
"""

import sys
import tempfile

import numpy as np

from graphattn.atomic import load_npz
from graphattn.metrics import chance_f1
from graphattn.probes.train import train_probe

BASE = dict(type="gcn", hidden=64, layers=2, dropout=0.1, lr=0.003, weight_decay=0.0001, epochs=200, patience=25,
            decoding="threshold", decoder="nodes", edge_weight="attention")
VARIANTS = {
    "seed-faithful: node decoder, attention edge weights (gcn_seed)": {},
    "  no edge weights (gcn_seed_unweighted)": dict(edge_weight="none"),
    "  constant node features (no identity)": dict(node_features="constant"),
    "  constant node features, no edge weights": dict(node_features="constant", edge_weight="none"),
    "  messages query -> key": dict(messages="query_to_key"),
    "  no self-loops": dict(self_loops=False),
    "  no normalisation (nor self-loops)": dict(normalize=False),
    "pair decoder (gcn)": dict(decoder="pair"),
    "  no edge weights": dict(decoder="pair", edge_weight="none"),
    "edge-feature GNN (gine)": dict(type="gine", decoder="pair"),
    "  node decoder": dict(type="gine", decoder="nodes"),
}


def edge_weight_summary(data) -> str:
    x, n_nodes = data["x"], data["n_nodes"]
    off = np.concatenate([x[g, :, :n, :n].mean(axis=0)[~np.eye(n, dtype=bool)] for g, n in enumerate(n_nodes)])
    return f"mean attention over heads between two nodes: mean {off.mean():.3f}, min {off.min():.3f}, max {off.max():.3f}"


def main(path: str) -> None:
    print(edge_weight_summary(load_npz(path)))
    print("\n| variant | test F1 | AUROC | best epochs |\n|---|---:|---:|---|")
    with tempfile.TemporaryDirectory() as out:
        for name, change in VARIANTS.items():
            runs = [train_probe(path, f"{out}/{seed}", "gcn", {**BASE, **change}, seed) for seed in (0, 1)]
            f1, auroc = np.mean([r["f1"] for r in runs]), np.mean([r["auroc"] for r in runs])
            print(f"| {name} | {f1:.3f} | {auroc:.3f} | {[r['best_epoch'] for r in runs]} |", flush=True)
    print(f"\nchance F1 (every pair an edge): {chance_f1(runs[0]['positive_rate']):.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/datasets/minilm/small/arrow/all/knone.npz")
