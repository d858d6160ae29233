"""Descriptive statistics of token-level attention patterns, per layer and head.

A pattern is ``[layer, head, query, key]`` for one prompt's real tokens, each query row
a distribution over keys (in a causal model, zero after the query). Statistics are
means over query rows, accumulated over prompts weighted by their number of tokens:
- entropy (nats): 0 for a head that looks at one token, ln(n) for one spread evenly over n;
- effective span: the mean distance |query - key| weighted by attention;
- first-token mass: the attention on the prompt's first token (the "sink");
- node mass: the attention on the tokens of node names (what Guan et al. 2025 find fine-tuned
  LLMs raise), when the prompts' node tokens are given;
- head diversity within a layer: the mean Jensen-Shannon divergence (base 2, 0 to 1)
  between the rows of every pair of its heads;
- layer similarity: 1 - the Jensen-Shannon divergence between two layers' head-averaged
  rows (1 for identical layers).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

EPS = 1e-12


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) over the last axis."""
    return -(p * np.log(np.clip(p, EPS, None))).sum(axis=-1)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in bits (0 to 1) over the last axis."""
    m = (p + q) / 2

    def kl(a, b):
        return (a * (np.log2(np.clip(a, EPS, None)) - np.log2(np.clip(b, EPS, None)))).sum(axis=-1)

    return np.clip((kl(p, m) + kl(q, m)) / 2, 0.0, 1.0)


class MetricAccumulator:
    """Sums of per-query statistics over prompts; ``tables()`` turns them into means."""

    def __init__(self, n_layers: int, n_heads: int):
        self.shape = (n_layers, n_heads)
        self.sums = {name: np.zeros(self.shape) for name in ("entropy", "span", "first_token_mass")}
        self.diversity = np.zeros(n_layers)
        self.layer_js = np.zeros((n_layers, n_layers))
        self.node_mass: np.ndarray | None = None
        self.queries = 0

    def add(self, pattern: np.ndarray, node_tokens: np.ndarray | None = None) -> None:
        """One prompt's ``[layer, head, T, T]`` pattern; ``node_tokens``, [T] bool: the tokens of
        node names (give it for every prompt or for none)."""
        n_layers, n_heads, n_tokens, _ = pattern.shape
        if node_tokens is not None:
            mass = pattern[..., node_tokens].sum(axis=(-1, -2))
            self.node_mass = mass if self.node_mass is None else self.node_mass + mass
        distance = np.abs(np.arange(n_tokens)[:, None] - np.arange(n_tokens)[None, :])
        self.sums["entropy"] += entropy(pattern).sum(axis=-1)
        self.sums["span"] += (pattern * distance).sum(axis=(-1, -2))
        self.sums["first_token_mass"] += pattern[..., 0].sum(axis=-1)
        pairs = list(itertools.combinations(range(n_heads), 2))
        if pairs:
            a, b = zip(*pairs)
            self.diversity += js_divergence(pattern[:, list(a)], pattern[:, list(b)]).mean(axis=1).sum(axis=-1)
        mean_heads = pattern.mean(axis=1)  # [layer, T, T]
        self.layer_js += js_divergence(mean_heads[:, None], mean_heads[None, :]).sum(axis=-1)
        self.queries += n_tokens

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per layer x head: entropy, span, first_token_mass, node_mass (if node tokens were given)
        and the layer's head_diversity; layer x layer similarity, long form)."""
        n_layers, n_heads = self.shape
        layer, head = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
        heads = pd.DataFrame({"layer": layer.ravel(), "head": head.ravel()})
        for name, total in self.sums.items():
            heads[name] = (total / self.queries).ravel()
        if self.node_mass is not None:
            heads["node_mass"] = (self.node_mass / self.queries).ravel()
        heads["head_diversity"] = np.repeat(self.diversity / self.queries, n_heads)
        a, b = np.meshgrid(np.arange(n_layers), np.arange(n_layers), indexing="ij")
        similarity = pd.DataFrame({"layer_a": a.ravel(), "layer_b": b.ravel(),
                                   "js_similarity": (1 - self.layer_js / self.queries).ravel()})
        return heads, similarity
