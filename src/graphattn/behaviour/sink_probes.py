"""What the probes read under sink redistribution: the dump taken again with the intervention
in the forward pass (every later layer sees the redistributed attention, as the answers do),
combined like any dump, and the configured probes (the MLP, the best head) trained on it."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import datasets
from .. import prompts as prompt_io
from ..atomic import write_json
from ..attention import SELECTIONS, NpyRows, node_batches
from ..graphs import Graph
from ..probes import probe_class
from ..probes.train import labelled_pairs, score_seed
from .decode import model_device
from .interventions import chosen_layers, redistribute_sink

log = logging.getLogger(__name__)


def sink_edit(g: float, layers: list[int]):
    """The dump's pattern edit: right-padded prompts, so every row's sink is position 0."""
    chosen = set(layers)

    def edit(layer: int, pattern: torch.Tensor) -> torch.Tensor:
        if layer not in chosen or g == 1.0:
            return pattern
        return redistribute_sink(pattern, g, torch.zeros(pattern.shape[0], dtype=torch.long))

    return edit


def dataset_under(bridge, prompts_path: str, graphs: list[Graph], max_nodes: int, batch_size: int, split: dict,
                  g: float, layers: list[int], folder: Path) -> dict[str, np.ndarray]:
    """The dense, all-mentions dataset of a dump taken with the sink redistributed by g."""
    prompts = prompt_io.PromptFile(prompts_path)
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    dump, meta = folder / f"g{g}.npy", folder / f"g{g}.json"
    out = NpyRows(str(dump), (len(prompts), len(SELECTIONS), n_layers, n_heads, max_nodes, max_nodes), np.float16)
    try:
        with torch.inference_mode():
            for idx, nodes in node_batches(bridge, prompts, max_nodes, batch_size, model_device(bridge),
                                           edit=sink_edit(g, layers)):
                out.write(idx, nodes.to(torch.float16).cpu().numpy())
    finally:
        out.close()
    write_json(str(meta), {"n_layers": n_layers, "n_heads": n_heads, "selections": list(SELECTIONS),
                           "graph_id": [p["graph_id"] for p in prompts]})
    return datasets.combine(str(dump), str(meta), prompts_path, graphs, max_nodes, "all", split["train"], split["val"],
                            split["seed"])


def sink_probes(bridge, prompts_path: str, graphs: list[Graph], max_nodes: int, batch_size: int, split: dict,
                gs: list[float], layers, probes: dict[str, dict], seeds: list[int],
                unchanged: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per g x probe x seed: test F1 of the probe on the dump taken under that g.
    ``unchanged``: the run's own dense, all-mentions dataset, read for g = 1 instead of a new dump."""
    chosen = chosen_layers(layers, bridge.cfg.n_layers)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for g in gs:
            if g == 1.0 and unchanged is not None:
                data = unchanged
            else:
                data = dataset_under(bridge, prompts_path, graphs, max_nodes, batch_size, split, g, chosen, Path(tmp))
            pairs, labels, groups = labelled_pairs(data, f"sink g={g}")
            for name, hyper in probes.items():
                for seed in seeds:
                    result, _, _ = score_seed(probe_class(hyper["type"]), data, pairs, labels, groups, name, hyper, seed)
                    rows.append({"g": g, "probe": name, "seed": seed, "f1": result["f1"], "auroc": result["auroc"]})
            log.info("g=%s: %s", g, ", ".join(f"{r['probe']} F1 {r['f1']:.3f}" for r in rows[-len(probes) * len(seeds):]))
    return pd.DataFrame(rows)
