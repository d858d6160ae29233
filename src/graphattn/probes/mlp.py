"""MLPs on per-pair features: attention i -> j and j -> i over every layer and head (``mlp``);
the position baseline's MLP (probes/position.py) reads mention positions instead."""

from __future__ import annotations

import numpy as np
import torch

from ..pairs import Pairs, pair_features
from .features import mlp, standardise


class MLPProbe(torch.nn.Module):
    def __init__(self, data: dict[str, np.ndarray], pairs: Pairs, hyper: dict):
        super().__init__()
        features, mean, std = standardise(self.features(data, pairs), pairs.split == 0)
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std)
        # Inputs per split are plain attributes, not buffers: the checkpoint keeps only weights.
        self.inputs = {s: features[torch.from_numpy(pairs.split == s)] for s in (0, 1, 2)}
        self.net = mlp(features.shape[1], hyper["hidden"], hyper["dropout"])

    @staticmethod
    def features(data: dict[str, np.ndarray], pairs: Pairs) -> np.ndarray:
        return pair_features(data["x"], pairs)

    def forward(self, split: int) -> torch.Tensor:
        return self.net(self.inputs[split]).squeeze(-1)
