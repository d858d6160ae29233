"""The relations a probe is asked to recover: which ordered node pairs (i, j) are related.

Direct edges alone cannot tell graph understanding from mention order (a child's parent is
usually named just before it), so the table also asks for relations that need composition:

- ``parent``: i -> j is an edge (the adjacency matrix itself);
- ``ancestor``: j is reachable from i along one or more edges (the transitive closure);
- ``grandparent``: the shortest path from i to j has exactly two edges;
- ``sibling``: i and j share a parent (symmetric, never i with itself).
"""

from __future__ import annotations

import numpy as np

RELATIONS = ("parent", "ancestor", "grandparent", "sibling")


def check(relation: str) -> None:
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}; accepted: {list(RELATIONS)}")


def relation_matrix(adj: np.ndarray, relation: str) -> np.ndarray:
    """[..., N, N] 0/1 float matrix of the relation, for one adjacency matrix or a stack of them
    (padding rows and columns of a stack stay zero: they have no edges)."""
    check(relation)
    a = np.asarray(adj) != 0
    n = a.shape[-1]
    off_diagonal = ~np.eye(n, dtype=bool)
    if relation == "parent":
        out = a
    elif relation == "ancestor":
        out = closure(a)
    elif relation == "grandparent":
        out = (matmul(a, a) & ~a) & off_diagonal
    else:
        # a[k, i] and a[k, j]: both children of k.
        out = matmul(np.swapaxes(a, -1, -2), a) & off_diagonal
    return out.astype(np.float32)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean matrix product: is there a k with a[i, k] and b[k, j]."""
    return (a.astype(np.int64) @ b.astype(np.int64)) > 0


def closure(a: np.ndarray) -> np.ndarray:
    """Reachability along one or more edges, by squaring until nothing changes (log2 N steps)."""
    reach = a.copy()
    while True:
        longer = reach | matmul(reach, reach)
        if np.array_equal(longer, reach):
            return reach
        reach = longer
