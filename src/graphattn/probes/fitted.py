"""Probes fitted without gradient steps: a logistic regression and the best single head.

Both score pairs of any split after ``fit``; the training loop treats them like the
gradient probes from there on (threshold on validation, metrics on test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .. import heads
from ..pairs import Pairs, pair_features
from .features import standardise


class LogRegProbe:
    """scikit-learn's logistic regression on the MLP's features, classes balanced as the MLP's loss is."""

    def __init__(self, data: dict[str, np.ndarray], pairs: Pairs, hyper: dict):
        features, _, _ = standardise(pair_features(data["x"], pairs), pairs.split == 0)
        self.inputs = {s: features[torch.from_numpy(pairs.split == s)].numpy() for s in (0, 1, 2)}
        self.hyper = hyper

    def fit(self, labels: dict[int, torch.Tensor], seed: int) -> pd.DataFrame:
        from sklearn.linear_model import LogisticRegression  # seconds to import: only here

        self.model = LogisticRegression(C=self.hyper["C"], max_iter=self.hyper["max_iter"],
                                        class_weight="balanced", random_state=seed)
        self.model.fit(self.inputs[0], labels[0].numpy())
        return pd.DataFrame({"iterations": [int(self.model.n_iter_[0])]})

    def scores(self, split: int) -> np.ndarray:
        return self.model.predict_proba(self.inputs[split])[:, 1]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"coef": torch.from_numpy(self.model.coef_.copy()), "intercept": torch.from_numpy(self.model.intercept_.copy())}


class BestHeadProbe:
    """One head read as a parser: the head and direction with the best accuracy on the
    validation split (argmax rule) for the probe's relation, its raw attention as the pair's score."""

    def __init__(self, data: dict[str, np.ndarray], pairs: Pairs, hyper: dict):
        self.data, self.pairs = data, pairs
        # The relation's own labels (parent, ancestor, ...) as a [G, N, N] matrix like adj.
        self.relation = np.zeros_like(data["adj"])
        self.relation[pairs.graph, pairs.src, pairs.dst] = pairs.label

    def fit(self, labels: dict[int, torch.Tensor], seed: int) -> pd.DataFrame:
        # No training split needed, no randomness.
        self.choice = heads.best_head(self.data, train_splits=(1,), labels=self.relation)
        return pd.DataFrame([self.choice])

    def scores(self, split: int) -> np.ndarray:
        keep = self.pairs.split == split
        return heads.head_pair_scores(self.data["x"], self.pairs.graph[keep], self.pairs.src[keep],
                                      self.pairs.dst[keep], self.choice["channel"], self.choice["direction"])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"layer": torch.tensor(self.choice["layer"]), "head": torch.tensor(self.choice["head"]),
                "child_to_parent": torch.tensor(self.choice["direction"] == "child_to_parent")}
