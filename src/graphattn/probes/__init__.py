"""Probes that score every ordered node pair (i, j) of a graph: is i a parent of j?

A configured probe has a name (its row in the table) and a ``type``, one of
``PROBES``. Two kinds share one interface, built from a dataset:

- gradient probes are torch modules; ``forward(split)`` returns one logit per pair
  of that split's graphs, in the order of ``pairs.pair_index``;
- fitted probes (``FITTED``) have ``fit(labels) -> history``, ``scores(split)`` and
  ``state_dict()``: a logistic regression, a head chosen on validation, or the position
  baseline (several learners, the best chosen on validation).

Probes are imported on demand: PyTorch Geometric alone takes seconds to import.
"""

from importlib import import_module

PROBES = {
    "mlp": "graphattn.probes.mlp:MLPProbe",
    "position": "graphattn.probes.position:PositionProbe",
    "gcn": "graphattn.probes.gcn:GCNProbe",
    "gine": "graphattn.probes.gine:GINEProbe",
    "logreg": "graphattn.probes.fitted:LogRegProbe",
    "best_head": "graphattn.probes.fitted:BestHeadProbe",
}
FITTED = {"logreg", "best_head", "position"}
# Types that read attention channels and nothing else: they can be trained on one layer's heads.
LAYER_PROBES = ("mlp", "best_head", "logreg")


def probe_class(probe_type: str):
    if probe_type not in PROBES:
        raise ValueError(f"unknown probe type {probe_type!r}; accepted: {sorted(PROBES)}")
    module, cls = PROBES[probe_type].split(":")
    return getattr(import_module(module), cls)
