"""Standardised tensors shared by the probes, with statistics from the training split only."""

from __future__ import annotations

import numpy as np
import torch


def standardise(values: np.ndarray, train_rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(standardised values, mean, std); constant features get std 1 instead of 0."""
    mean = values[train_rows].mean(axis=0)
    std = values[train_rows].std(axis=0)
    std[std < 1e-8] = 1.0
    scaled = (values - mean) / std
    return torch.from_numpy(scaled.astype(np.float32)), torch.from_numpy(mean), torch.from_numpy(std)


def mlp(n_in: int, hidden: int, dropout: float, n_hidden_layers: int = 2) -> torch.nn.Sequential:
    layers, width = [], n_in
    for _ in range(n_hidden_layers):
        layers += [torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        width = hidden
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)
