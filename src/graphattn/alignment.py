"""Token-to-node alignment through the tokenizer's character offsets.

A token belongs to a mention when their character spans overlap, so a node name
split into several tokens, or a token carrying a leading space (" A"), aligns.
Special tokens have empty spans (0, 0) and never belong to a mention.
"""

from __future__ import annotations

import numpy as np

SELECTIONS = ("all", "source", "target")


def mention_tokens(offsets: np.ndarray, start: int, end: int) -> np.ndarray:
    """Indices of the tokens whose non-empty span overlaps [start, end)."""
    lo, hi = offsets[:, 0], offsets[:, 1]
    return np.nonzero((hi > lo) & (lo < end) & (hi > start))[0]


def node_weights(offsets: np.ndarray, mentions: list[dict], max_nodes: int,
                 prompt_id: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Query weights Q [S, N, T] and key indicator K [N, T] of one prompt.

    Q[s, i] averages over the tokens of node i's mentions selected by ``SELECTIONS[s]``
    (zero if there are none); K[j] marks every token of every mention of node j.
    Then ``Q[s] @ A @ K.T`` is, per head, the mean attention mass that node i's
    selected tokens put on node j's tokens.
    """
    n_tokens = len(offsets)
    query = np.zeros((len(SELECTIONS), max_nodes, n_tokens), dtype=np.float32)
    key = np.zeros((max_nodes, n_tokens), dtype=np.float32)
    for m in mentions:
        tokens = mention_tokens(offsets, m["start"], m["end"])
        if len(tokens) == 0:
            raise ValueError(f"prompt {prompt_id}: mention of node {m['node']} at characters "
                             f"{m['start']}..{m['end']} covers no token (truncated prompt?)")
        key[m["node"], tokens] = 1.0
        for s, selection in enumerate(SELECTIONS):
            if selection == "all" or selection == m["role"]:
                query[s, m["node"], tokens] = 1.0
    counts = query.sum(axis=-1, keepdims=True)
    return np.divide(query, counts, out=np.zeros_like(query), where=counts > 0), key
