"""Where and in which order nodes are mentioned, without any attention.

These are the inputs of the position-only baseline: if a probe on attention does no
better than one on positions, the attention adds nothing the text's layout does not
already give. In an edge list the parent is the mention just before a child's
("A -> C"), so the mention-offset features below can recover edges by themselves.

The attention features carry more than order for free, and so does the baseline: a key
node's attention sums over every token of every mention of it, so even a uniform head
gives each node's mention count (its degree, in an edge list); and a uniform causal head
at a mention of i gives the share of earlier mentions that are j's (``before_share``).
"""

from __future__ import annotations

import numpy as np

OFFSETS = (-2, -1, 1, 2)  # neighbouring mentions, in mention order
NODE_FEATURES = ("first_mention_rank", "mean_position", "mention_count")
PAIR_FEATURES = tuple(f"offset_{offset:+d}" for offset in OFFSETS) + ("before_share",)


def prompt_positions(prompt: dict, max_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(node [len(NODE_FEATURES), N], pair [len(PAIR_FEATURES), N, N]) for one rendered prompt.

    node: rank of each node's first mention (0 first, 1 last), the mean start of its
    mentions as a share of the text's length, and its number of mentions. pair[d, i, j]
    for d < len(OFFSETS): the share of j's mentions whose mention at offset OFFSETS[d] is
    one of i; pair[-1, i, j]: over i's mentions, the mean share of the mentions before it
    that are j's (what a head attending uniformly to earlier mentions gives).
    """
    mentions = prompt["mentions"]
    order = [m["node"] for m in sorted(mentions, key=lambda m: m["start"])]
    node = np.zeros((len(NODE_FEATURES), max_nodes), dtype=np.float64)
    first_seen = list(dict.fromkeys(order))
    node[0, first_seen] = np.arange(len(first_seen)) / max(len(first_seen) - 1, 1)
    counts = np.bincount(order, minlength=max_nodes)
    starts = np.bincount([m["node"] for m in mentions], weights=[m["start"] for m in mentions], minlength=max_nodes)
    node[1] = np.divide(starts, counts * max(len(prompt["text"]), 1), out=np.zeros(max_nodes), where=counts > 0)
    node[2] = counts

    pair = np.zeros((len(PAIR_FEATURES), max_nodes, max_nodes), dtype=np.float64)
    for d, offset in enumerate(OFFSETS):
        for at, j in enumerate(order):
            if 0 <= at + offset < len(order):
                pair[d, order[at + offset], j] += 1
    pair[:len(OFFSETS)] /= np.maximum(counts, 1)[None, None, :]
    earlier = np.zeros(max_nodes)  # mentions of each node so far
    for at, i in enumerate(order):
        if at:
            pair[-1, i] += earlier / at
        earlier[i] += 1
    pair[-1] /= np.maximum(counts, 1)[:, None]
    return node, pair
