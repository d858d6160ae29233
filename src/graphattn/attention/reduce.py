"""Token-level patterns reduced to node-by-node matrices, on the device, batch by batch."""

from __future__ import annotations

import numpy as np
import torch

from ..alignment import node_weights
from .hooks import run_to_last_pattern

SINKS = ("keep", "drop")


def drop_first_token(pattern: torch.Tensor) -> torch.Tensor:
    """Attention with the first key's column zeroed and each row renormalised (a row that
    only saw the first token stays zero)."""
    pattern = pattern.clone()
    pattern[..., 0] = 0
    total = pattern.sum(dim=-1, keepdim=True)
    return torch.where(total > 0, pattern / total.clamp_min(1e-12), pattern)


class NodeReducer:
    """Forward hooks that turn each layer's [batch, head, q, k] pattern into node matrices."""

    def __init__(self, n_layers: int, sink: str = "keep", edit=None):
        """``edit(layer, pattern)``: an intervention whose pattern the forward pass goes on with
        and the reduction reads (graphattn.behaviour.interventions)."""
        if sink not in SINKS:
            raise ValueError(f"unknown sink option {sink!r}; accepted: {list(SINKS)}")
        self.n_layers = n_layers
        self.drop_sink = sink == "drop"
        self.edit = edit
        self.query = self.key = None
        self.layers: list[torch.Tensor] = []

    def capture(self, layer: int, pattern: torch.Tensor) -> torch.Tensor:
        if self.edit is not None:
            pattern = self.edit(layer, pattern)
        a = pattern.float()
        if self.drop_sink:
            a = drop_first_token(a)
        # Q [batch, 1, sel*node, q] @ A [batch, head, q, k] @ K^T [batch, 1, k, node], as two explicit
        # matmuls (a one-call einsum may build a q x k x node x node intermediate), with the selections
        # folded into the rows: broadcasting A over a selection axis would copy it once per selection.
        batch, n_sel, n_nodes, n_query = self.query.shape
        query_mass = self.query.reshape(batch, 1, n_sel * n_nodes, n_query) @ a
        nodes = query_mass @ self.key.transpose(1, 2)[:, None]  # [batch, head, sel*node, node]
        self.layers.append(nodes.view(batch, -1, n_sel, n_nodes, n_nodes).transpose(1, 2))
        return pattern

    def run(self, bridge, input_ids, attention_mask, query, key) -> torch.Tensor:
        """[batch, selection, layer, head, node, node] for one batch."""
        self.query, self.key, self.layers = query, key, []
        run_to_last_pattern(bridge, input_ids, attention_mask, self.capture)
        if len(self.layers) != self.n_layers:
            raise RuntimeError(f"captured {len(self.layers)} of {self.n_layers} attention layers")
        return torch.stack(self.layers, dim=2)


def batch_weights(offsets: np.ndarray, batch: list[dict], max_nodes: int, device: str):
    pairs = [node_weights(off, p["mentions"], max_nodes, f"{p['graph_id']}/{p['ordering']}")
             for off, p in zip(offsets, batch)]
    query = torch.from_numpy(np.stack([q for q, _ in pairs])).to(device)
    key = torch.from_numpy(np.stack([k for _, k in pairs])).to(device)
    return query, key
