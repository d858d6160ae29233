"""How well each attention head alone recovers the parents of a node.

Two scores per layer x head, each in two directions:
- parent accuracy, the argmax rule of the classic per-head parsing studies: a node's
  predicted parent is the node its head attends to most;
- AUROC of the raw attention score at separating edges from non-edges.

"child_to_parent" reads the attention a child pays to its parent (``x[g, c, j, i]``
for the edge i -> j), "parent_to_child" the attention a parent pays to its child
(``x[g, c, i, j]``). Numpy only (plotting imports its libraries when called), so the
best-head probe can use these functions without paying for heavy imports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import auroc, ranked_counts

DIRECTIONS = ("child_to_parent", "parent_to_child")


def _parent_scores(x: np.ndarray, direction: str) -> np.ndarray:
    """View of ``x`` whose ``[..., i, j]`` is the score of "i is a parent of j", aligned with ``adj``."""
    if direction == "child_to_parent":
        return x.swapaxes(-1, -2)
    if direction == "parent_to_child":
        return x
    raise ValueError(f"unknown direction {direction!r}; accepted: {DIRECTIONS}")


def _real_pairs(n_nodes: np.ndarray, max_nodes: int) -> np.ndarray:
    """[G, N, N] True for the off-diagonal pairs of real (non-padding) nodes."""
    real = np.arange(max_nodes)[None, :] < np.asarray(n_nodes)[:, None]
    return real[:, :, None] & real[:, None, :] & ~np.eye(max_nodes, dtype=bool)


def parent_accuracy(x: np.ndarray, adj: np.ndarray, n_nodes: np.ndarray, direction: str) -> np.ndarray:
    """[C] share of nodes with a parent whose most-attended other real node is a parent.

    Ties go to the lower node index (np.argmax takes the first maximum).
    """
    scores = _parent_scores(x, direction)
    # Padding and the node itself can never be predicted.
    scores = np.where(_real_pairs(n_nodes, x.shape[-1])[:, None], scores, -np.inf)
    predicted = scores.argmax(axis=-2)  # [G, C, N]: the candidate parent i of each node j
    correct = np.take_along_axis(adj[:, None], predicted[:, :, None, :], axis=-2)[:, :, 0, :]  # adj[g, i_pred, j]
    has_parent = adj.any(axis=-2)  # [G, N]; padding nodes have no parents
    if not has_parent.any():
        raise ValueError("no node has a parent in the given graphs: parent accuracy is undefined")
    return correct.sum(axis=(0, 2), where=has_parent[:, None]) / has_parent.sum()


def head_auroc(x: np.ndarray, adj: np.ndarray, n_nodes: np.ndarray, direction: str) -> np.ndarray:
    """[C] AUROC of each head's attention score for edges vs non-edges over off-diagonal real pairs."""
    pairs = _real_pairs(n_nodes, x.shape[-1])
    labels = adj[pairs].astype(int)
    if not 0 < labels.sum() < len(labels):
        raise ValueError("AUROC needs both edges and non-edges among the given graphs")
    scores = np.moveaxis(_parent_scores(x, direction), 1, 0)[:, pairs].astype(np.float64)  # [C, pairs]
    return np.array([auroc(*ranked_counts(labels, channel)[:2]) for channel in scores])


def head_scores(data: dict[str, np.ndarray], splits=(0, 1)) -> pd.DataFrame:
    """One row per layer x head, both scores in both directions, over the graphs of ``splits``
    (training and validation): the head ranking of the ablations and the encoding side of
    patching read these, and no test graph may choose what is then measured on test graphs."""
    n_layers, n_heads = int(data["n_layers"]), int(data["n_heads"])
    chosen = np.isin(data["split"], splits)
    if not chosen.any():
        raise ValueError(f"no graph in splits {tuple(splits)} to score the heads on")
    x, adj, n_nodes = data["x"][chosen], data["adj"][chosen], data["n_nodes"][chosen]
    if x.shape[1] != n_layers * n_heads:
        raise ValueError(f"x has {x.shape[1]} channels, expected n_layers * n_heads = {n_layers * n_heads}")
    channel = np.arange(n_layers * n_heads)
    table = {"layer": channel // n_heads, "head": channel % n_heads}
    for direction in DIRECTIONS:
        table[f"parent_acc_{direction}"] = parent_accuracy(x, adj, n_nodes, direction)
    for direction in DIRECTIONS:
        table[f"auroc_{direction}"] = head_auroc(x, adj, n_nodes, direction)
    return pd.DataFrame(table)


def best_head(data: dict[str, np.ndarray], train_splits=(1,), labels: np.ndarray | None = None) -> dict:
    """The (channel, direction) with the highest parent accuracy on the graphs of ``train_splits``.

    Chosen on validation graphs by default, so that a probe built on it is tested on unseen
    graphs. ``labels`` [G, N, N]: another relation's matrix (ancestor, sibling, ...) to choose
    on in place of the parents (``adj``). Ties go to the first direction of DIRECTIONS, then
    the lowest channel.
    """
    chosen = np.isin(data["split"], train_splits)
    if not chosen.any():
        raise ValueError(f"no graph in splits {tuple(train_splits)} to choose a head on")
    adj = data["adj"] if labels is None else labels
    x, adj, n_nodes = data["x"][chosen], adj[chosen], data["n_nodes"][chosen]
    accuracy = np.stack([parent_accuracy(x, adj, n_nodes, direction) for direction in DIRECTIONS])
    d, channel = np.unravel_index(np.argmax(accuracy), accuracy.shape)
    n_heads = int(data["n_heads"])
    return {
        "layer": int(channel // n_heads),
        "head": int(channel % n_heads),
        "channel": int(channel),
        "direction": DIRECTIONS[d],
        "val_parent_acc": float(accuracy[d, channel]),
    }


def head_pair_scores(x: np.ndarray, pairs_graph: np.ndarray, pairs_src: np.ndarray, pairs_dst: np.ndarray,
                     channel: int, direction: str) -> np.ndarray:
    """[P] one head's score for each ordered pair (src = candidate parent, dst = candidate child)."""
    return _parent_scores(x[:, channel], direction)[pairs_graph, pairs_src, pairs_dst]
