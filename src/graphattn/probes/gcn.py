"""GCN with attention as edge weights (as in the seed notes) and a pair decoder.

Each graph is fully connected: node j sends a message to node i weighted by the
mean attention that i pays to j (``edge_weight: attention``) or unweighted
(``edge_weight: none``). Node features summarise each node's attention per head
(mass it sends and receives), or are one constant (``node_features: constant``, to
show what a GCN does with nodes that carry no identity). The decoder scores the pair
(i, j) from the two node embeddings alone (``decoder: nodes``, as in the seed notes)
or with the pair's own attention features as well (``decoder: pair``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.nn import GCNConv

from ..pairs import Pairs, pair_features
from .features import mlp, standardise


def node_features(x: np.ndarray, n_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per real node: attention mass sent (row sum) and received (column sum) per channel."""
    rows, graph_of = [], []
    for g, n in enumerate(n_nodes):
        block = x[g, :, :n, :n]
        rows.append(np.concatenate([block.sum(axis=2).T, block.sum(axis=1).T], axis=1))
        graph_of.append(np.full(n, g))
    return np.concatenate(rows), np.concatenate(graph_of)


class GCNProbe(torch.nn.Module):
    def __init__(self, data: dict[str, np.ndarray], pairs: Pairs, hyper: dict):
        super().__init__()
        nodes, node_graph = node_features(data["x"], data["n_nodes"])
        if hyper.get("node_features") == "constant":
            nodes = np.ones_like(nodes[:, :1])  # nodes without identity: the seed's flatline (docs/results.md)
        node_split = data["split"][node_graph]
        nodes, _, _ = standardise(nodes, node_split == 0)
        features, _, _ = standardise(pair_features(data["x"], pairs), pairs.split == 0)
        offset = np.concatenate([[0], np.cumsum(data["n_nodes"])[:-1]])  # first node row of each graph
        weight = data["x"][pairs.graph, :, pairs.src, pairs.dst].mean(axis=1)
        self.inputs = {s: self._split_inputs(s, nodes, node_split, features, pairs, offset, weight, hyper)
                       for s in (0, 1, 2)}
        hidden = hyper["hidden"]
        self.convs = torch.nn.ModuleList(
            self.make_conv(nodes.shape[1] if layer == 0 else hidden, hidden, features.shape[1], hyper)
            for layer in range(hyper["layers"]))
        self.dropout = torch.nn.Dropout(hyper["dropout"])
        self.pair_features = hyper["decoder"] == "pair"
        self.decoder = mlp(2 * hidden + (features.shape[1] if self.pair_features else 0), hidden, hyper["dropout"])

    @staticmethod
    def make_conv(n_in: int, n_out: int, n_edge_features: int, hyper: dict):
        # Symmetric normalisation with self-loops is GCNConv's default (and the seed's);
        # both can be switched off to see what they do to attention weights. GCNConv adds
        # self-loops only while normalising.
        normalize = hyper.get("normalize", True)
        return GCNConv(n_in, n_out, normalize=normalize, add_self_loops=normalize and hyper.get("self_loops", True))

    @staticmethod
    def convolve(conv, h: torch.Tensor, inp: dict) -> torch.Tensor:
        return conv(h, inp["edge_index"], inp["edge_weight"])

    @staticmethod
    def _split_inputs(split, nodes, node_split, features, pairs, offset, weight, hyper):
        """Node rows, edges and pair features of one split, with node ids local to the split."""
        keep_nodes = node_split == split
        local = np.cumsum(keep_nodes) - 1  # global node row -> row within the split
        keep = pairs.split == split
        src = local[offset[pairs.graph[keep]] + pairs.src[keep]]
        dst = local[offset[pairs.graph[keep]] + pairs.dst[keep]]
        edge_weight = torch.from_numpy(weight[keep].astype(np.float32)) if hyper.get("edge_weight") == "attention" else None
        # By default messages flow key -> query: i attends to j, so j sends to i.
        senders, receivers = (dst, src) if hyper.get("messages", "key_to_query") == "key_to_query" else (src, dst)
        return {
            "x": nodes[torch.from_numpy(keep_nodes)],
            "edge_index": torch.from_numpy(np.stack([senders, receivers]).astype(np.int64)),
            "edge_weight": edge_weight,
            "pairs": torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
            "features": features[torch.from_numpy(keep)],
        }

    def forward(self, split: int) -> torch.Tensor:
        inp = self.inputs[split]
        h = inp["x"]
        for conv in self.convs:
            h = self.dropout(torch.relu(self.convolve(conv, h, inp)))
        src, dst = inp["pairs"]
        pair = [h[src], h[dst]] + ([inp["features"]] if self.pair_features else [])
        return self.decoder(torch.cat(pair, dim=1)).squeeze(-1)
