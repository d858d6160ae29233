"""Probes that score every ordered node pair (i, j) of a graph: is i a parent of j?

Each probe is a torch module built from a dataset; ``forward(split)`` returns one
logit per pair of that split's graphs, in the order of ``pairs.pair_index``.
Probes are imported on demand: PyTorch Geometric alone takes a second to import.
"""

from importlib import import_module

PROBES = {"mlp": "graphattn.probes.mlp:MLPProbe", "gcn": "graphattn.probes.gcn:GCNProbe"}


def probe_class(name: str):
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; accepted: {sorted(PROBES)}")
    module, cls = PROBES[name].split(":")
    return getattr(import_module(module), cls)
