"""Arg-k sparsification: per layer, head and query node keep the k largest keys."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from .atomic import atomic_path


def parse_k(k: str | int | None) -> int | None:
    """Config and wildcards write k as ``none`` or a positive integer."""
    if k is None or str(k) == "none":
        return None
    value = int(k)
    if value < 1:
        raise ValueError(f"k must be 'none' or a positive integer, got {k!r}")
    return value


def arg_k(matrices: np.ndarray, n_nodes: int, k: int) -> np.ndarray:
    """Zero all but the top-k keys of every query row among the graph's real nodes.

    ``matrices`` is [..., N, N] with nodes >= n_nodes as padding. Ties are broken
    by node index (stable sort), so the result is deterministic. Rows keep at most
    min(k, n_nodes) entries.
    """
    real = matrices[..., :n_nodes, :n_nodes]
    keep = min(k, n_nodes)
    order = np.argsort(-real.astype(np.float32), axis=-1, kind="stable")[..., :keep]
    mask = np.zeros(real.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    out = np.zeros_like(matrices)
    out[..., :n_nodes, :n_nodes] = np.where(mask, real, 0)
    return out


def sparsify_file(in_path: str, out_path: str, n_nodes: list[int], k: int, chunk: int = 64) -> None:
    """Stream a dump [P, S, L, H, N, N] through arg-k, one chunk of prompts at a time."""
    dense = np.load(in_path, mmap_mode="r", allow_pickle=False)
    if len(n_nodes) != dense.shape[0]:
        raise ValueError(f"{in_path}: {dense.shape[0]} prompts but {len(n_nodes)} node counts in its metadata")
    with atomic_path(out_path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dense.dtype, shape=dense.shape)
        for start in tqdm(range(0, dense.shape[0], chunk), desc=f"arg-{k}", unit="chunk"):
            for p in range(start, min(start + chunk, dense.shape[0])):
                out[p] = arg_k(np.asarray(dense[p]), n_nodes[p], k)
        out.flush()
        del out
