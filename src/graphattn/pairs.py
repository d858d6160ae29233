"""Ordered node pairs (i, j), i != j, of every graph in a dataset, and their features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .relations import relation_matrix


@dataclass
class Pairs:
    graph: np.ndarray  # [P] row of the graph in the dataset
    src: np.ndarray  # [P] node i (candidate parent)
    dst: np.ndarray  # [P] node j (candidate child)
    label: np.ndarray  # [P] is (i, j) in the relation: adj[i, j] for "parent" (see relations.py)
    split: np.ndarray  # [P] split of the graph


def pair_index(data: dict[str, np.ndarray], relation: str = "parent") -> Pairs:
    graph, src, dst = [], [], []
    for g, n in enumerate(data["n_nodes"]):
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        graph.append(np.full(len(i), g))
        src.append(i)
        dst.append(j)
    graph, src, dst = (np.concatenate(a) for a in (graph, src, dst))
    label = relation_matrix(data["adj"], relation)[graph, src, dst]
    return Pairs(graph, src, dst, label, data["split"][graph])


def pair_features(x: np.ndarray, pairs: Pairs) -> np.ndarray:
    """[P, 2C]: attention i -> j then j -> i, over every layer and head."""
    forward = x[pairs.graph, :, pairs.src, pairs.dst]
    backward = x[pairs.graph, :, pairs.dst, pairs.src]
    return np.concatenate([forward, backward], axis=1).astype(np.float32)


def position_features(data: dict[str, np.ndarray], pairs: Pairs) -> np.ndarray:
    """[P, 2F + 2D + 1]: position features of i, of j, the pair features i -> j and j -> i (see
    positions.py), and the graph's node count (which the attention's padding shows too)."""
    node, pair = data["pos_node"], data["pos_pair"]
    return np.concatenate([
        node[pairs.graph, :, pairs.src], node[pairs.graph, :, pairs.dst],
        pair[pairs.graph, :, pairs.src, pairs.dst], pair[pairs.graph, :, pairs.dst, pairs.src],
        data["n_nodes"][pairs.graph, None],
    ], axis=1).astype(np.float32)
