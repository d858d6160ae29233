"""Naming schemes: the names a graph's nodes are given in the prompt."""

from __future__ import annotations

import string

import numpy as np

# Each scheme is a fixed pool; a graph draws its names from it without replacement.
SCHEMES: dict[str, list[str]] = {
    "letters": list(string.ascii_uppercase),
    # Two-letter names become several tokens in most tokenizers: exercises alignment.
    "pairs": [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase],
    "words": [
        "apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano", "lemon", "eagle",
        "candle", "forest", "garden", "island", "jungle", "kettle", "ladder", "marble", "needle", "orange",
    ],
}


def capacity(scheme: str) -> int:
    """How many distinct nodes the scheme can name."""
    return len(pool(scheme))


def pool(scheme: str) -> list[str]:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown naming scheme {scheme!r}; accepted: {sorted(SCHEMES)}")
    return SCHEMES[scheme]


def draw_names(scheme: str, n: int, rng: np.random.Generator) -> list[str]:
    names = pool(scheme)
    if n > len(names):
        raise ValueError(
            f"naming scheme {scheme!r} can name at most {len(names)} nodes, but a graph has {n}; "
            f"lower max_nodes or choose a scheme from {sorted(SCHEMES)}"
        )
    return [names[i] for i in rng.choice(len(names), size=n, replace=False)]
