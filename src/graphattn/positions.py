"""Where and in which order nodes are mentioned, without any attention.

These are the inputs of the position-only baseline: if a probe on attention does no
better than one on positions, the attention adds nothing the text's layout does not
already give. In an edge list the parent is the mention just before a child's
("A -> C"), so the mention-offset features below can recover edges by themselves.
"""

from __future__ import annotations

import numpy as np

OFFSETS = (-2, -1, 1, 2)  # neighbouring mentions, in mention order
NODE_FEATURES = ("first_mention_rank", "mean_position")


def prompt_positions(prompt: dict, max_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(node [2, N], pair [len(OFFSETS), N, N]) for one rendered prompt.

    node: rank of each node's first mention (0 first, 1 last) and the mean start of
    its mentions as a share of the text's length. pair[d, i, j]: the share of j's
    mentions whose mention at offset OFFSETS[d] is one of i.
    """
    mentions = prompt["mentions"]
    order = [m["node"] for m in sorted(mentions, key=lambda m: m["start"])]
    node = np.zeros((len(NODE_FEATURES), max_nodes), dtype=np.float64)
    first_seen = list(dict.fromkeys(order))
    node[0, first_seen] = np.arange(len(first_seen)) / max(len(first_seen) - 1, 1)
    counts = np.bincount(order, minlength=max_nodes)
    starts = np.bincount([m["node"] for m in mentions], weights=[m["start"] for m in mentions], minlength=max_nodes)
    node[1] = np.divide(starts, counts * max(len(prompt["text"]), 1), out=np.zeros(max_nodes), where=counts > 0)

    pair = np.zeros((len(OFFSETS), max_nodes, max_nodes), dtype=np.float64)
    for d, offset in enumerate(OFFSETS):
        for at, j in enumerate(order):
            if 0 <= at + offset < len(order):
                pair[d, order[at + offset], j] += 1
    pair /= np.maximum(counts, 1)[None, None, :]
    return node, pair
