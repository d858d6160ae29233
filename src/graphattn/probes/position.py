"""The position baseline: where, in which order and how often two nodes are mentioned, no
attention, fit by several learners and the best one chosen on the validation graphs.

A baseline that underfits flatters every attention probe beside it, so it is fit as
well as a probe is: an MLP (the attention MLP's architecture and training) and
gradient-boosted trees over a small grid, each scored on validation by its best-threshold
F1 (the quantity reported on test), the highest kept. Only the chosen learner's scores
reach the test split.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import torch

from .. import metrics
from ..pairs import Pairs, position_features
from .mlp import MLPProbe
from .train import TEST, TRAIN, VAL, trained_scores

LEARNERS = ("mlp", "trees")


class PositionMLP(MLPProbe):
    @staticmethod
    def features(data: dict[str, np.ndarray], pairs: Pairs) -> np.ndarray:
        return position_features(data, pairs)


def val_f1(labels: np.ndarray, scores: np.ndarray) -> float:
    return metrics.pair_metrics(labels, scores, metrics.best_threshold(labels, scores))["f1"]


class PositionProbe:
    """A fitted probe (``fit``, ``scores``, ``state_dict``) that trains every learner of
    ``hyper["learners"]`` and keeps the one with the best validation F1."""

    def __init__(self, data: dict[str, np.ndarray], pairs: Pairs, hyper: dict):
        self.data, self.pairs, self.hyper = data, pairs, hyper
        self.features = position_features(data, pairs)

    def fit(self, labels: dict[int, torch.Tensor], seed: int) -> pd.DataFrame:
        candidates = {}  # name -> (val scores, test scores, state)
        history = None
        for learner in self.hyper["learners"]:
            if learner == "mlp":
                scores, state, history = self.fit_mlp(labels, seed)
                candidates["mlp"] = (scores[VAL], scores[TEST], state)
            elif learner == "trees":
                candidates.update(self.fit_trees(labels, seed))
            else:
                raise ValueError(f"position learner {learner!r}; accepted: {list(LEARNERS)}")
        y_val = labels[VAL].numpy()
        self.val_f1 = {name: val_f1(y_val, val) for name, (val, _, _) in candidates.items()}
        self.choice = max(self.val_f1, key=self.val_f1.get)  # the first listed on ties
        self.chosen = {VAL: candidates[self.choice][0], TEST: candidates[self.choice][1]}
        self.state = candidates[self.choice][2]
        # The MLP's epochs when it ran (the training-curve plot reads them), else one row per learner.
        if history is None:
            history = pd.DataFrame({"epoch": 0, "val_f1": [max(self.val_f1.values())]})
        return history.assign(chosen=self.choice)

    def fit_mlp(self, labels, seed: int):
        model = PositionMLP(self.data, self.pairs, self.hyper)
        scores, state, _, history = trained_scores(model, labels, self.hyper, seed)
        return scores, state, history

    def fit_trees(self, labels, seed: int) -> dict:
        """scikit-learn's histogram gradient boosting over the grid of learning rates and leaf counts."""
        from sklearn.ensemble import HistGradientBoostingClassifier  # seconds to import: only here

        inputs = {s: self.features[self.pairs.split == s] for s in (TRAIN, VAL, TEST)}
        out = {}
        for rate, leaves in itertools.product(self.hyper["trees_learning_rate"], self.hyper["trees_max_leaf_nodes"]):
            trees = HistGradientBoostingClassifier(learning_rate=rate, max_leaf_nodes=leaves,
                                                   max_iter=self.hyper["trees_max_iter"], early_stopping=False,
                                                   random_state=seed)
            trees.fit(inputs[TRAIN], labels[TRAIN].numpy())
            state = {"learning_rate": torch.tensor(rate), "max_leaf_nodes": torch.tensor(leaves)}
            out[f"trees(lr={rate}, leaves={leaves})"] = (trees.predict_proba(inputs[VAL])[:, 1],
                                                         trees.predict_proba(inputs[TEST])[:, 1], state)
        return out

    def scores(self, split: int) -> np.ndarray:
        return self.chosen[split]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The chosen MLP's weights, or the chosen trees' settings (the trees themselves are not
        tensors: the checkpoint holds what rebuilds them with the seed)."""
        return dict(self.state)

    def summary(self) -> dict:
        return {"learner": self.choice, "learners_val_f1": self.val_f1}
