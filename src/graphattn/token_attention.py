"""Token-level attention of a sample of prompts, for the analyses that need every token
(head roles, attention metrics) rather than the node matrices of the dump.

Each prompt's ``[layer, head, T, T]`` pattern, cut to its real tokens, is handed to
accumulators one prompt at a time, so memory holds one batch, never the sample.
"""

from __future__ import annotations

import logging

import torch
from tqdm import tqdm

from . import graphs as graph_io
from . import prompts as prompt_io
from .attention import encode, length_batches, run_to_last_pattern
from .attention_metrics import MetricAccumulator
from .models import load_bridge
from .roles import RoleAccumulator, token_layout

log = logging.getLogger(__name__)


def batch_patterns(bridge, input_ids, attention_mask) -> torch.Tensor:
    """[batch, layer, head, q, k] float32, the forward stopped after the last layer's pattern."""
    layers: list[torch.Tensor] = []

    def capture(layer, pattern):
        layers.append(pattern.float())
        return pattern

    run_to_last_pattern(bridge, input_ids, attention_mask, capture)
    return torch.stack(layers, dim=1)


def analyse(prompts_path: str, graphs_path: str, model_path: str, n_prompts: int, batch_size: int,
            dtype: str = "float32", device: str = "cpu", allow_download: bool = False,
            trust_remote_code: bool = False, random_init: bool = False, init_seed: int = 0,
            ) -> tuple[RoleAccumulator, MetricAccumulator]:
    """Head roles and attention metrics over the first ``n_prompts`` prompts of the file."""
    prompts = prompt_io.PromptFile(prompts_path)
    edges = {g.id: g.edges for g in graph_io.load(graphs_path)[0]}
    sample = prompts.read(range(min(n_prompts, len(prompts))))
    bridge = load_bridge(model_path, device, dtype, allow_download, trust_remote_code, random_init, init_seed)
    roles = RoleAccumulator(bridge.cfg.n_layers, bridge.cfg.n_heads)
    metrics = MetricAccumulator(bridge.cfg.n_layers, bridge.cfg.n_heads)
    lengths = [len(ids) for ids in bridge.tokenizer([r["text"] for r in sample])["input_ids"]]
    with torch.inference_mode():
        for idx in tqdm(length_batches(lengths, batch_size), desc="analyse_attention", unit="batch"):
            batch = [sample[i] for i in idx]
            input_ids, mask, offsets = encode(bridge.tokenizer, [r["text"] for r in batch], device)
            patterns = batch_patterns(bridge, input_ids, mask).cpu().numpy()
            for prompt, pattern, off, n_tokens in zip(batch, patterns, offsets, mask.sum(dim=1).tolist()):
                # Right padding: the real tokens come first.
                pattern, off = pattern[..., :n_tokens, :n_tokens], off[:n_tokens]
                layout = token_layout(off, prompt["text"], prompt["mentions"])
                roles.add(pattern, layout, edges[prompt["graph_id"]])
                metrics.add(pattern, layout["node"] >= 0)
    log.info("analysed %d prompts of %s", len(sample), prompts_path)
    return roles, metrics
