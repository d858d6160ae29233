"""Dump every head's attention, reduced on the fly to node-by-node matrices.

Only the attention patterns are needed, so the forward pass stops right after the
last layer's pattern is captured: no last MLP, no vocabulary logits, no activation
cache. Token patterns are reduced to node level on the device, batch by batch, and
written into a memory-mapped .npy, so memory does not grow with the number of prompts.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import torch
from tqdm import tqdm

from . import prompts as prompt_io
from .alignment import SELECTIONS, node_weights
from .atomic import atomic_path, write_json
from .models import load_bridge

log = logging.getLogger(__name__)


class _StopForward(Exception):
    """Raised from the last layer's pattern hook to skip the rest of the forward pass."""


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Prompt indices grouped by similar token length, so batches waste little padding."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def encode(tokenizer, texts: list[str], device: str):
    # Right padding is exact for encoders (masked keys) and for causal models
    # (real tokens never see the pads after them), whatever the position encoding.
    tokenizer.padding_side = "right"
    enc = tokenizer(texts, return_tensors="pt", padding=True, return_offsets_mapping=True)
    return enc["input_ids"].to(device), enc["attention_mask"].to(device), enc["offset_mapping"].numpy()


class NodeReducer:
    """Forward hooks that turn each layer's [batch, head, q, k] pattern into node matrices."""

    def __init__(self, n_layers: int):
        self.n_layers = n_layers
        self.query = self.key = None
        self.layers: list[torch.Tensor] = []

    def hooks(self):
        return [(f"blocks.{layer}.attn.hook_pattern", self.capture) for layer in range(self.n_layers)]

    def capture(self, pattern: torch.Tensor, hook) -> torch.Tensor:
        a = pattern.float().unsqueeze(1)  # [batch, 1, head, q, k]
        # Q [batch, sel, 1, node, q] @ A @ K^T [batch, 1, 1, k, node] -> [batch, sel, head, node, node],
        # as two explicit matmuls: a one-call einsum may build a q x k x node x node intermediate.
        query_mass = self.query.unsqueeze(2) @ a
        self.layers.append(query_mass @ self.key.transpose(1, 2)[:, None, None])
        if len(self.layers) == self.n_layers:
            raise _StopForward
        return pattern

    def run(self, bridge, input_ids, attention_mask, query, key) -> torch.Tensor:
        """[batch, selection, layer, head, node, node] for one batch."""
        self.query, self.key, self.layers = query, key, []
        try:
            bridge.run_with_hooks(input_ids, attention_mask=attention_mask, fwd_hooks=self.hooks())
        except _StopForward:
            pass
        if len(self.layers) != self.n_layers:
            raise RuntimeError(f"captured {len(self.layers)} of {self.n_layers} attention layers")
        return torch.stack(self.layers, dim=2)


def batch_weights(offsets: np.ndarray, batch: list[dict], max_nodes: int, device: str):
    pairs = [node_weights(off, p["mentions"], max_nodes, f"{p['graph_id']}/{p['ordering']}")
             for off, p in zip(offsets, batch)]
    query = torch.from_numpy(np.stack([q for q, _ in pairs])).to(device)
    key = torch.from_numpy(np.stack([k for _, k in pairs])).to(device)
    return query, key


def check_node_count(records: list[dict], max_nodes: int) -> None:
    too_big = [r for r in records if r["n_nodes"] > max_nodes]
    if too_big:
        raise ValueError(f"graph {too_big[0]['graph_id']} has {too_big[0]['n_nodes']} nodes, more than max_nodes={max_nodes}")


def dump_attention(prompts_path: str, out_path: str, meta_path: str, model_path: str, max_nodes: int,
                   batch_size: int, dtype: str = "float32", device: str = "cpu",
                   allow_download: bool = False, trust_remote_code: bool = False) -> None:
    records = prompt_io.load(prompts_path)
    check_node_count(records, max_nodes)
    bridge = load_bridge(model_path, device, dtype, allow_download, trust_remote_code)
    tokenizer = bridge.tokenizer
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    shape = (len(records), len(SELECTIONS), n_layers, n_heads, max_nodes, max_nodes)
    log.info("model %s: %d layers x %d heads; %d prompts -> %s", model_path, n_layers, n_heads, len(records), shape)

    lengths = [len(ids) for ids in tokenizer([r["text"] for r in records])["input_ids"]]
    reducer = NodeReducer(n_layers)
    with atomic_path(out_path) as tmp, torch.inference_mode():
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=shape)
        for idx in tqdm(length_batches(lengths, batch_size), desc="dump_attention", unit="batch"):
            batch = [records[i] for i in idx]
            input_ids, mask, offsets = encode(tokenizer, [r["text"] for r in batch], device)
            query, key = batch_weights(offsets, batch, max_nodes, device)
            nodes = reducer.run(bridge, input_ids, mask, query, key)
            out[idx] = nodes.to(torch.float16).cpu().numpy()
        out.flush()
        del out

    write_json(meta_path, {
        "model_path": model_path, "n_layers": n_layers, "n_heads": n_heads, "selections": list(SELECTIONS),
        "max_nodes": max_nodes, "n_prompts": len(records), "dtype": dtype,
        "graph_id": [r["graph_id"] for r in records], "ordering": [r["ordering"] for r in records],
        "n_nodes": [r["n_nodes"] for r in records],
    })
