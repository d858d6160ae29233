"""An edge-feature GNN: GINEConv messages carry the pair's attention in every head.

Where the GCN squeezes a pair's attention into one scalar edge weight (mean over
heads, then renormalised), GINEConv sees every head's attention of the pair, both
directions, as the edge's feature vector. Graph, node features and decoder are the
GCN probe's (with ``decoder: pair`` or ``nodes``).
"""

from __future__ import annotations

import torch
from torch_geometric.nn import GINEConv

from .gcn import GCNProbe


class GINEProbe(GCNProbe):
    @staticmethod
    def make_conv(n_in: int, n_out: int, n_edge_features: int, hyper: dict):
        update = torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.ReLU(), torch.nn.Linear(n_out, n_out))
        return GINEConv(update, train_eps=True, edge_dim=n_edge_features)

    @staticmethod
    def convolve(conv, h: torch.Tensor, inp: dict) -> torch.Tensor:
        return conv(h, inp["edge_index"], inp["features"])
