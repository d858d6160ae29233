"""Combine a (sparsified) dump into one probe-ready dataset for one mention selection.

Orderings of the same graph are averaged (node indices are the graph's own, so
node identity is kept across orderings), the ground-truth adjacency is attached
and graphs, never pairs, are split into train/val/test. The mention positions of the
same prompts (no attention) ride along; the position-only baseline trains on them alone
(``position_dataset``), once per graph set and notation.
"""

from __future__ import annotations

import json

import numpy as np

from .atomic import load_npz, save_npz
from .graphs import Graph
from .positions import NODE_FEATURES, PAIR_FEATURES, prompt_positions
from .prompts import PromptFile

SPLITS = {"train": 0, "val": 1, "test": 2}


def split_graphs(n_graphs: int, train: float, val: float, seed: int) -> np.ndarray:
    """Assign each graph to 0 (train), 1 (val) or 2 (test); every split gets at least one graph."""
    if n_graphs < 3:
        raise ValueError(f"need at least 3 graphs to split into train/val/test, got {n_graphs}")
    if not (0 < train < 1 and 0 < val < 1 and train + val < 1):
        raise ValueError(f"split fractions must satisfy 0 < train, val and train + val < 1; got train={train}, val={val}")
    order = np.random.default_rng(seed).permutation(n_graphs)
    n_train = min(max(1, round(train * n_graphs)), n_graphs - 2)
    n_val = min(max(1, round(val * n_graphs)), n_graphs - n_train - 1)
    split = np.full(n_graphs, SPLITS["test"], dtype=np.int8)
    split[order[:n_train]] = SPLITS["train"]
    split[order[n_train:n_train + n_val]] = SPLITS["val"]
    return split


def combine(dump_path: str, meta_path: str, prompts_path: str, graphs: list[Graph], max_nodes: int,
            selection: str, train: float, val: float, seed: int) -> dict[str, np.ndarray]:
    with open(meta_path) as fh:
        meta = json.load(fh)
    if selection not in meta["selections"]:
        raise ValueError(f"unknown selection {selection!r}; accepted: {meta['selections']}")
    s = meta["selections"].index(selection)
    dump = np.load(dump_path, mmap_mode="r", allow_pickle=False)
    n_layers, n_heads = meta["n_layers"], meta["n_heads"]

    graph_ids = sorted(set(meta["graph_id"]))
    row_of = {gid: r for r, gid in enumerate(graph_ids)}
    sums = np.zeros((len(graph_ids), n_layers * n_heads, max_nodes, max_nodes), dtype=np.float64)
    counts = np.zeros(len(graph_ids), dtype=np.int64)
    # Dump rows follow the prompts file's order.
    for p, (gid, prompt) in enumerate(zip(meta["graph_id"], PromptFile(prompts_path), strict=True)):
        if prompt["graph_id"] != gid:
            raise ValueError(f"{prompts_path} line {p + 1} is graph {prompt['graph_id']}, the dump's row is graph {gid}")
        sums[row_of[gid]] += np.asarray(dump[p, s], dtype=np.float64).reshape(n_layers * n_heads, max_nodes, max_nodes)
        counts[row_of[gid]] += 1

    return {
        "x": (sums / counts[:, None, None, None]).astype(np.float32),
        **position_dataset(prompts_path, graphs, max_nodes, train, val, seed),
        "n_layers": np.array(n_layers),
        "n_heads": np.array(n_heads),
    }


def position_dataset(prompts_path: str, graphs: list[Graph], max_nodes: int, train: float, val: float,
                     seed: int) -> dict[str, np.ndarray]:
    """Everything of a dataset but the attention: mention positions averaged over orderings, the
    adjacency and the split. It depends on the prompts alone, so every model's dataset of the
    same graph set and notation has the same one, and the position baseline trains on it once."""
    by_id = {g.id: g for g in graphs}
    prompts = PromptFile(prompts_path)
    graph_ids = sorted({prompt["graph_id"] for prompt in prompts})
    row_of = {gid: r for r, gid in enumerate(graph_ids)}
    counts = np.zeros(len(graph_ids), dtype=np.int64)
    pos_node = np.zeros((len(graph_ids), len(NODE_FEATURES), max_nodes))
    pos_pair = np.zeros((len(graph_ids), len(PAIR_FEATURES), max_nodes, max_nodes))
    for prompt in prompts:
        r = row_of[prompt["graph_id"]]
        node, pair = prompt_positions(prompt, max_nodes)
        pos_node[r] += node
        pos_pair[r] += pair
        counts[r] += 1
    return {
        "pos_node": (pos_node / counts[:, None, None]).astype(np.float32),
        "pos_pair": (pos_pair / counts[:, None, None, None]).astype(np.float32),
        "adj": np.stack([by_id[gid].adjacency(max_nodes) for gid in graph_ids]),
        "n_nodes": np.array([by_id[gid].n_nodes for gid in graph_ids], dtype=np.int64),
        "graph_id": np.array(graph_ids, dtype=np.int64),
        "split": split_graphs(len(graph_ids), train, val, seed),
    }


def save(path: str, dataset: dict[str, np.ndarray]) -> None:
    save_npz(path, **dataset)


load = load_npz
