"""Probes layer by layer: where in the network is the graph? Each probe is trained on one layer's
heads at a time (the dataset's channels of that layer only), with every seed."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..atomic import load_npz
from . import LAYER_PROBES, probe_class
from .train import labelled_pairs, score_seed

log = logging.getLogger(__name__)


def one_layer(data: dict[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The dataset with only ``layer``'s heads as channels."""
    n_heads = int(data["n_heads"])
    return {**data, "x": data["x"][:, layer * n_heads:(layer + 1) * n_heads], "n_layers": np.array(1)}


def layer_probes(dataset_path: str, probes: dict[str, dict], seeds: list[int]) -> pd.DataFrame:
    """One row per layer x probe x seed: the test metrics of the probe trained on that layer alone."""
    bad = {name: hyper["type"] for name, hyper in probes.items() if hyper["type"] not in LAYER_PROBES}
    if bad:
        raise ValueError(f"layer probes {bad}: accepted types {list(LAYER_PROBES)} (probes of attention channels)")
    data = load_npz(dataset_path)
    rows = []
    for layer in range(int(data["n_layers"])):
        sliced = one_layer(data, layer)
        pairs, labels, groups = labelled_pairs(sliced, dataset_path)
        for name, hyper in probes.items():
            for seed in seeds:
                result, _, _ = score_seed(probe_class(hyper["type"]), sliced, pairs, labels, groups, name, hyper, seed)
                rows.append({"layer": layer, "probe": name, "seed": seed, "f1": result["f1"], "auroc": result["auroc"],
                             "parent_acc": result["parent_acc"]})
        log.info("layer %d: %s", layer, ", ".join(f"{r['probe']} F1 {r['f1']:.3f}" for r in rows[-len(probes) * len(seeds):]))
    return pd.DataFrame(rows)
