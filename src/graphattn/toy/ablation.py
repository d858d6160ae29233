"""Mean-attention ablation of the toy model: does a head's graph-specific pattern matter?

Each head's attention pattern is replaced by its average over the validation prompts,
position by position (the "mean ablation" of the related studies): the head keeps
attending where it attends on average, but no longer looks where this graph would make
it look. The answer accuracy on the same validation questions then says how much the
model needed that head's pattern: one head at a time, and all heads at once.

For scale, ``graph_blind`` is the accuracy of the best answer that ignores the graph:
for each question text ("Parents of C:") the most frequent answer among the validation
questions with that text.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import pandas as pd
import torch
from tqdm import tqdm

from ..attention import pattern_hooks
from ..models import load_bridge
from .examples import VALIDATION_SEED_OFFSET, Example, collate, heldout_examples
from .tokenizer import build_tokenizer
from .training import exact_match

log = logging.getLogger(__name__)


def mean_patterns(bridge, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """[layer, head, T, T]: each query position's attention row averaged over the prompts
    that have a real token there."""
    sums: dict[int, torch.Tensor] = {}
    query_real = batch["attention_mask"].float()  # [batch, T]

    def capture(layer, pattern):
        sums[layer] = (pattern.float() * query_real[:, None, :, None]).sum(dim=0)
        return pattern

    with torch.inference_mode():
        bridge.run_with_hooks(batch["input_ids"], attention_mask=batch["attention_mask"],
                              fwd_hooks=pattern_hooks(bridge.cfg.n_layers, capture))
    counts = query_real.sum(dim=0).clamp_min(1)[None, :, None]  # [1, T, 1]
    return torch.stack([sums[layer] / counts for layer in range(bridge.cfg.n_layers)])


def ablated_accuracy(bridge, batch: dict[str, torch.Tensor], means: torch.Tensor,
                     heads: list[tuple[int, int]]) -> float:
    """Answer accuracy with the patterns of ``heads`` [(layer, head)] replaced by their means."""
    by_layer = defaultdict(list)
    for layer, head in heads:
        by_layer[layer].append(head)

    def replace(layer, pattern):
        if layer not in by_layer:
            return pattern
        pattern = pattern.clone()
        pattern[:, by_layer[layer]] = means[layer, by_layer[layer]].to(pattern.dtype)
        return pattern

    with torch.inference_mode():
        logits = bridge.run_with_hooks(batch["input_ids"], attention_mask=batch["attention_mask"],
                                       fwd_hooks=pattern_hooks(bridge.cfg.n_layers, replace))
    return exact_match(logits, batch["labels"])


def graph_blind_accuracy(examples: list[Example], stop_id: int) -> float:
    """Accuracy of answering each question text with its most frequent answer."""
    answers: dict[tuple, Counter] = defaultdict(Counter)
    for e in examples:
        first = e.scored.index(True)
        start = max(i for i in range(first) if e.ids[i] == stop_id) + 1  # the question follows the last "."
        answer = tuple(t for t, scored in zip(e.ids, e.scored) if scored)
        answers[tuple(e.ids[start:first])][answer] += 1
    return sum(c.most_common(1)[0][1] for c in answers.values()) / len(examples)


def mean_ablation(model_dir: str, graph_settings: dict, toy: dict, graph_sets: frozenset = frozenset()) -> pd.DataFrame:
    """One row per ablation: none, every head alone, all heads; accuracy and the drop from none.
    ``graph_sets``: the graph sets' edge sets, which training's validation graphs were drawn apart from."""
    bridge = load_bridge(model_dir)
    # The validation questions of training (same seed), encoded by the saved tokenizer.
    tokenizer = build_tokenizer(graph_settings["naming"])
    examples = heldout_examples(tokenizer, graph_settings, toy, toy["seed"] + VALIDATION_SEED_OFFSET, 1.0, graph_sets)
    batch = collate(examples, tokenizer.pad_token_id)
    means = mean_patterns(bridge, batch)
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    every = [(layer, head) for layer in range(n_layers) for head in range(n_heads)]

    rows = [{"ablated": "none", "layer": None, "head": None, "accuracy": ablated_accuracy(bridge, batch, means, [])}]
    for layer, head in tqdm(every, desc="mean_ablation", unit="head"):
        rows.append({"ablated": f"L{layer}H{head}", "layer": layer, "head": head,
                     "accuracy": ablated_accuracy(bridge, batch, means, [(layer, head)])})
    rows.append({"ablated": "all", "layer": None, "head": None, "accuracy": ablated_accuracy(bridge, batch, means, every)})
    rows.append({"ablated": "graph_blind", "layer": None, "head": None,
                 "accuracy": graph_blind_accuracy(examples, tokenizer.convert_tokens_to_ids("."))})
    table = pd.DataFrame(rows).astype({"layer": "Int64", "head": "Int64"})
    table["drop"] = table["accuracy"].iloc[0] - table["accuracy"]
    log.info("mean ablation: none %.3f, all heads %.3f, graph-blind %.3f",
             table["accuracy"].iloc[0], table["accuracy"].iloc[-2], table["accuracy"].iloc[-1])
    return table


def with_role_tags(table: pd.DataFrame, heads: list[dict]) -> pd.DataFrame:
    """The ablation table with each head's role tags (from head_roles.json) beside it."""
    tags = {(h["layer"], h["head"]): " ".join(h["tags"]) for h in heads}
    return table.assign(tags=[tags.get((row.layer, row.head), "") if pd.notna(row.layer) else ""
                              for row in table.itertuples()])
