"""Snapshots of the toy model's attention while it trains.

A fixed probe set of prompts (fresh graphs drawn with their own seed, first notation of
the toy) is read at every evaluation: its node-level attention (mean mass node i's tokens
put on node j's, every layer and head, as in the dump) and every head's role scores
(graphattn.roles). Together with the step at which validation accuracy first reaches 99%,
they show when heads take on their roles relative to when the model starts answering.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .. import graphs
from ..alignment import node_weights
from ..atomic import save_npz, write_text
from ..prompts import render
from ..roles import RoleAccumulator, token_layout


class DynamicsRecorder:
    def __init__(self, tokenizer, graph_settings: dict, notation: str, n_prompts: int, seed: int):
        rng = np.random.default_rng(seed)
        s = graph_settings
        self.graphs = [graphs.random_sized_dag(i, s, rng) for i in range(n_prompts)]
        self.prompts = [render(g, notation, 0, rng) for g in self.graphs]
        tokenizer.padding_side = "right"
        enc = tokenizer([p.text for p in self.prompts], return_tensors="pt", padding=True, return_offsets_mapping=True)
        self.input_ids, self.mask = enc["input_ids"], enc["attention_mask"]
        self.lengths = self.mask.sum(dim=1).tolist()
        offsets = enc["offset_mapping"].numpy()
        mentions = [[m.__dict__ for m in p.mentions] for p in self.prompts]
        self.layouts = [token_layout(off[:n], p.text, m) for off, p, m, n in zip(offsets, self.prompts, mentions, self.lengths)]
        weights = [node_weights(off, m, s["max_nodes"]) for off, m in zip(offsets, mentions)]
        self.query = torch.from_numpy(np.stack([q[0] for q, _ in weights]))  # selection "all": [b, N, T]
        self.key = torch.from_numpy(np.stack([k for _, k in weights]))  # [b, N, T]
        self.steps: list[int] = []
        self.node_attention: list[np.ndarray] = []
        self.scores: list[pd.DataFrame] = []

    def attentions(self, model) -> torch.Tensor:
        """[b, layer, head, T, T] from the model in eval mode (eager attention returns the weights)."""
        implementation = model.config._attn_implementation
        model.config._attn_implementation = "eager"
        try:
            with torch.no_grad():
                out = model(input_ids=self.input_ids, attention_mask=self.mask, output_attentions=True)
        finally:
            model.config._attn_implementation = implementation
        return torch.stack(out.attentions, dim=1).float()

    def record(self, model, step: int) -> None:
        att = self.attentions(model)
        nodes = self.query[:, None, None] @ att @ self.key.transpose(1, 2)[:, None, None]  # [b, L, H, N, N]
        acc = RoleAccumulator(att.shape[1], att.shape[2])
        for pattern, layout, graph, n in zip(att.numpy(), self.layouts, self.graphs, self.lengths):
            acc.add(pattern[..., :n, :n], layout, graph.edges)
        self.steps.append(step)
        self.node_attention.append(nodes.numpy().astype(np.float16))
        self.scores.append(acc.tag_scores().assign(step=step))

    def save(self, npz_path: str, scores_path: str) -> None:
        save_npz(npz_path, steps=np.array(self.steps), node_attention=np.stack(self.node_attention),
                 adjacency=np.stack([g.adjacency(self.query.shape[1]) for g in self.graphs]))
        scores = pd.concat(self.scores, ignore_index=True)
        columns = ["step", "layer", "head"] + [c for c in scores.columns if c not in ("step", "layer", "head")]
        write_text(scores_path, scores[columns].to_csv(index=False, float_format="%.4f"))


def first_step_at(history: list[dict], threshold: float = 0.99) -> int | None:
    """The first evaluation step whose validation accuracy reaches ``threshold``."""
    return next((row["step"] for row in history if row["val_accuracy"] >= threshold), None)
