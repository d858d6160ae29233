"""Activation patching per head between a clean prompt and a corrupted one.

A corrupted prompt is its clean prompt with one edge changed by symmetric replacement: in the
edge p -> X, where p is a parent of the node X asked about, the name p is replaced by the name
of another node q that is not a parent of X (nor X). The prompt keeps its number of tokens and
changes only at that mention's tokens, and the answer to "Parents of X:" changes: p is a parent
in the clean graph and not in the corrupted one, q the other way round.

The metric is the logit difference at the answer position, logit(p) - logit(q) (the first token
of each name as the answer's first word), normalised so that 1 is the clean run and 0 the
corrupted one: (LD - mean LD_corrupted) / (mean LD_clean - mean LD_corrupted), means over the
pairs. Each head's output (``hook_z``) or pattern (``hook_pattern``) is patched at every position
from the clean run into the corrupted one (denoising: how much of the answer the head restores)
and from the corrupted run into the clean one (noising: what is left when the head's clean
activation is replaced; 1 - the value is what the head carries). The sweeps are those of
``transformer_lens.patching`` on the TransformerBridge. A random-init control, whose own
clean-corrupted gap is near 0, is normalised by its model's gap on the same pairs instead
(``reference_gap``), so its map is on the model's scale.

Rows are right-padded to a batch's width: a causal model's real tokens never see the pads after
them, so the answer position's logits are each pair's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .candidates import answer_tokens
from .decode import logits_at, model_device, pad_id, right_pad, token_ids
from .questions import Question

ACTIVATIONS = ("out", "pattern")
DIRECTIONS = ("denoising", "noising")


@dataclass(frozen=True)
class Pair:
    graph_id: int
    ordering: int
    node: str  # X, the node asked about
    clean_text: str
    corrupt_text: str
    clean_answer: str  # p: a parent of X in the clean graph only
    corrupt_answer: str  # q: a parent of X in the corrupted graph only
    clean_ids: tuple[int, ...]
    corrupt_ids: tuple[int, ...]
    clean_token: int  # the first token of " p", of " q"
    corrupt_token: int


def source_mentions(prompt: dict, notation: str) -> list[tuple[int, int, dict]]:
    """(parent, child, the parent's mention) for every edge written in the prompt."""
    mentions = sorted(prompt["mentions"], key=lambda m: m["start"])
    edges = []
    if notation == "parents":  # "Parents of X: A, B." - sources follow their child
        child = None
        for m in mentions:
            if m["role"] == "target":
                child = m["node"]
            else:
                edges.append((m["node"], child, m))
        return edges
    for source, target in zip(mentions[::2], mentions[1::2]):  # "A -> X, B -> X"
        edges.append((source["node"], target["node"], source))
    return edges


def corrupted_text(question_text: str, graph_text: str, mention: dict, name: str) -> str:
    """The question with the graph's ``mention`` renamed ``name``; the graph is the question's last
    occurrence of ``graph_text`` (few-shot examples come before it)."""
    at = question_text.rfind(graph_text)
    if at < 0:
        raise ValueError("the question does not contain its graph's text")
    graph = graph_text[:mention["start"]] + name + graph_text[mention["end"]:]
    return question_text[:at] + graph + question_text[at + len(graph_text):]


def changed_only_at(clean: list[int], corrupt: list[int], allowed: int) -> bool:
    """Same length, and the tokens that differ form one run of at most ``allowed`` tokens."""
    if len(clean) != len(corrupt):
        return False
    differ = [i for i, (a, b) in enumerate(zip(clean, corrupt)) if a != b]
    return bool(differ) and differ[-1] - differ[0] < allowed


def make_pairs(questions: list[Question], prompts: list[dict], graph_names: dict[int, list[str]], notation: str,
               tokenizer, seed: int, max_pairs: int | None = None) -> tuple[list[Pair], dict]:
    """One corrupted pair per parents question whose node has a parent and a non-parent to swap
    in (p and q drawn seeded by question), at most ``max_pairs`` of them (a seeded sample).
    Returns the pairs and the count of questions left out, by reason."""
    by_key = {(p["graph_id"], p["ordering"]): p for p in prompts}
    pairs, skipped = [], {"no parent": 0, "no other node": 0, "tokens differ": 0}
    for q in questions:
        if q.kind != "parents":
            continue
        prompt, names = by_key[q.graph_id, q.ordering], graph_names[q.graph_id]
        x = names.index(q.node)
        edges = [(p, m) for p, child, m in source_mentions(prompt, notation) if child == x]
        others = [n for n in names if n not in q.gold and n != q.node]
        if not edges:
            skipped["no parent"] += 1
            continue
        rng = np.random.default_rng([seed, q.graph_id, q.ordering, x])
        parent, mention = edges[rng.integers(len(edges))]
        clean_first = answer_tokens(tokenizer, names[parent])[0]
        others = [n for n in others if answer_tokens(tokenizer, n)[0] != clean_first]
        if not others:
            skipped["no other node"] += 1
            continue
        other = others[rng.integers(len(others))]
        text = corrupted_text(q.text, prompt["text"], mention, other)
        clean_ids, corrupt_ids = token_ids(tokenizer, q.text), token_ids(tokenizer, text)
        span = len(tokenizer(prompt["text"][mention["start"]:mention["end"]], add_special_tokens=False)["input_ids"])
        if not changed_only_at(clean_ids, corrupt_ids, max(span, 1) + 1):
            skipped["tokens differ"] += 1
            continue
        pairs.append(Pair(q.graph_id, q.ordering, q.node, q.text, text, names[parent], other, tuple(clean_ids),
                          tuple(corrupt_ids), clean_first, answer_tokens(tokenizer, other)[0]))
    if max_pairs is not None and len(pairs) > max_pairs:
        keep = np.random.default_rng(seed).choice(len(pairs), size=max_pairs, replace=False)
        pairs = [pairs[i] for i in sorted(keep)]
    return pairs, skipped


def batches(pairs: list[Pair], batch_size: int, pad: int, device: torch.device | str = "cpu"):
    """(pairs, clean ids, corrupt ids, answer positions) per batch, right-padded, on ``device``."""
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        clean, _ = right_pad([p.clean_ids for p in chunk], pad)
        corrupt, _ = right_pad([p.corrupt_ids for p in chunk], pad)
        positions = torch.tensor([len(p.clean_ids) - 1 for p in chunk])
        yield chunk, clean.to(device), corrupt.to(device), positions.to(device)


def logit_diff_metric(chunk: list[Pair], positions: torch.Tensor):
    """logits -> [batch]: logit(p) - logit(q) at each pair's answer position."""
    rows = torch.arange(len(chunk))
    clean = torch.tensor([p.clean_token for p in chunk])
    corrupt = torch.tensor([p.corrupt_token for p in chunk])

    def metric(logits: torch.Tensor) -> torch.Tensor:
        on = logits.device
        at = logits[rows.to(on), positions.to(on)].float()
        return at[rows.to(on), clean.to(on)] - at[rows.to(on), corrupt.to(on)]

    return metric


def run_metric(bridge, ids: torch.Tensor, metric, hooks=()) -> torch.Tensor:
    with torch.inference_mode():
        return metric(bridge.run_with_hooks(ids, fwd_hooks=list(hooks)))


def head_sweeps(bridge, pairs: list[Pair], batch_size: int, activations=ACTIVATIONS,
                progress: bool = True, heads: list[tuple[int, int]] | None = None) -> dict:
    """The raw logit differences of every pair: ``clean`` and ``corrupt`` [pairs], and for each
    activation and direction [layers, heads, pairs] with that head patched
    (transformer_lens.patching, per example). With ``heads``, only those (layer, head) are
    patched (the sweep's index_df); the others are NaN."""
    from transformer_lens import patching

    setters = {"out": ("z", patching.layer_head_vector_patch_setter),
               "pattern": ("pattern", patching.layer_head_pattern_patch_setter)}
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    chosen = heads if heads is not None else [(layer, head) for layer in range(n_layers) for head in range(n_heads)]
    index = pd.DataFrame(chosen, columns=["layer", "head"])

    def sweep(activation, ids, cache, metric):
        name, setter = setters[activation]
        flat = patching.generic_activation_patch(bridge, ids, cache, metric, setter, name, index_df=index,
                                                 reduce="none").values  # [rows, batch]
        full = torch.full((n_layers, n_heads, flat.shape[-1]), float("nan"))
        full[torch.tensor(index["layer"].to_numpy()), torch.tensor(index["head"].to_numpy())] = flat.float().cpu()
        return full

    pad = pad_id(bridge.tokenizer)
    out = {"clean": [], "corrupt": [], **{(a, d): [] for a in activations for d in DIRECTIONS}}
    names = lambda name: name.endswith(("hook_z", "hook_pattern"))  # noqa: E731
    for chunk, clean, corrupt, positions in tqdm(list(batches(pairs, batch_size, pad, model_device(bridge))),
                                                 desc="patching", unit="batch", disable=not progress):
        metric = logit_diff_metric(chunk, torch.zeros_like(positions))  # logits of the answer position only
        with torch.inference_mode(), logits_at(bridge, positions):
            clean_logits, clean_cache = bridge.run_with_cache(clean, names_filter=names)
            corrupt_logits, corrupt_cache = bridge.run_with_cache(corrupt, names_filter=names)
            out["clean"].append(metric(clean_logits).cpu())
            out["corrupt"].append(metric(corrupt_logits).cpu())
            for activation in activations:
                out[activation, "denoising"].append(sweep(activation, corrupt, clean_cache, metric))
                out[activation, "noising"].append(sweep(activation, clean, corrupt_cache, metric))
    return {key: torch.cat(parts, dim=-1).numpy() for key, parts in out.items()}


HOOKS = {"out": "hook_z", "pattern": "hook_pattern"}


def run_with_grads(bridge, ids: torch.Tensor, metric, activations) -> tuple[torch.Tensor, dict, dict]:
    """One forward and backward pass: the metric per row, and for each (activation, layer) the
    activation and the gradient of the summed metric with respect to it (rows are independent,
    so each row's gradient is its own metric's)."""
    acts = {}

    def keep(act, hook, key):
        act.retain_grad()
        acts[key] = act
        return act

    hooks = [(f"blocks.{layer}.attn.{HOOKS[a]}", lambda act, hook, key=(a, layer): keep(act, hook, key))
             for a in activations for layer in range(bridge.cfg.n_layers)]
    with torch.enable_grad():
        values = metric(bridge.run_with_hooks(ids, fwd_hooks=hooks))
        values.sum().backward()
    bridge.zero_grad(set_to_none=True)
    return (values.detach(), {k: a.detach() for k, a in acts.items()},
            {k: a.grad.detach() for k, a in acts.items()})


def per_head(product: torch.Tensor, activation: str) -> torch.Tensor:
    """[batch, head]: a product summed over everything but the batch and the head."""
    if activation == "out":  # [batch, pos, head, d_head]
        return product.sum(dim=(1, 3))
    return product.sum(dim=(2, 3))  # pattern: [batch, head, query, key]


def attribution_sweeps(bridge, pairs: list[Pair], batch_size: int, activations=ACTIVATIONS,
                       progress: bool = True) -> dict:
    """Attribution patching (Nanda 2023; Syed et al. 2023), the first-order approximation of
    ``head_sweeps`` in two forward and two backward passes per batch instead of one forward pass
    per head: denoising, LD_corrupted + (clean - corrupted activation) . dLD/dactivation at the
    corrupted run; noising, LD_clean + (corrupted - clean activation) . dLD/dactivation at the
    clean run; the same layout as head_sweeps."""
    pad = pad_id(bridge.tokenizer)
    n_layers = bridge.cfg.n_layers
    out = {"clean": [], "corrupt": [], **{(a, d): [] for a in activations for d in DIRECTIONS}}
    for chunk, clean, corrupt, positions in tqdm(list(batches(pairs, batch_size, pad, model_device(bridge))),
                                                 desc="attribution", unit="batch", disable=not progress):
        metric = logit_diff_metric(chunk, torch.zeros_like(positions))  # logits of the answer position only
        with logits_at(bridge, positions):
            clean_ld, clean_acts, clean_grads = run_with_grads(bridge, clean, metric, activations)
            corrupt_ld, corrupt_acts, corrupt_grads = run_with_grads(bridge, corrupt, metric, activations)
        out["clean"].append(clean_ld)
        out["corrupt"].append(corrupt_ld)
        for a in activations:
            denoise = torch.stack([per_head((clean_acts[a, layer] - corrupt_acts[a, layer]) * corrupt_grads[a, layer], a)
                                   for layer in range(n_layers)])  # [layer, batch, head]
            noise = torch.stack([per_head((corrupt_acts[a, layer] - clean_acts[a, layer]) * clean_grads[a, layer], a)
                                 for layer in range(n_layers)])
            out[a, "denoising"].append(corrupt_ld + denoise.transpose(1, 2))  # [layer, head, batch]
            out[a, "noising"].append(clean_ld + noise.transpose(1, 2))
    return {key: torch.cat(parts, dim=-1).float().cpu().numpy() for key, parts in out.items()}


def normalised(values: np.ndarray, clean: np.ndarray, corrupt: np.ndarray) -> np.ndarray:
    """Per pair, (LD - LD_corrupted) over the mean clean-corrupted gap: its mean over pairs is
    the normalised logit difference (1 clean, 0 corrupted)."""
    gap = float(np.mean(clean - corrupt))
    if abs(gap) < 1e-6:
        raise ValueError("the clean and corrupted runs give the same mean logit difference: nothing to patch back")
    return (values - corrupt) / gap


def head_table(sweeps: dict, pairs: list[Pair], resamples: int, seed: int, gap: float | None = None) -> pd.DataFrame:
    """One row per activation, direction, layer and head: the normalised metric's mean over
    pairs (1 clean, 0 corrupted), its sd over pairs and 95% interval over graphs (bootstrap of
    the graphs, the same draws for every head), and ``effect``, what the head carries: the
    share it restores (denoising) or the share of the clean answer lost without it (noising);
    ``rank`` 1 is the largest effect of its activation and direction. Without a clean-corrupted
    gap (a model that does not answer from the graph) the normalised columns are NaN and
    ``raw_mean`` (the mean logit difference with the head patched) remains.

    ``gap``: the clean-corrupted gap to normalise by, if not the model's own: a random-init
    control's gap is near 0 (its own normalised effects are noise divided by noise), so it is
    measured in its model's gap, on the same scale as the model's map (``gap`` column)."""
    clean, corrupt = sweeps["clean"], sweeps["corrupt"]
    own_gap = float(np.mean(clean - corrupt))
    gap = own_gap if gap is None else gap
    has_gap = abs(gap) > 1e-6
    graph_ids = np.array([p.graph_id for p in pairs])
    groups = np.unique(graph_ids)
    member = (graph_ids[None, :] == groups[:, None]).astype(float)  # [graphs, pairs]
    draws = np.random.default_rng(seed).integers(len(groups), size=(resamples, len(groups)))
    weights = np.stack([np.bincount(d, minlength=len(groups)) for d in draws]) @ member  # [resamples, pairs]
    rows = []
    for activation in ACTIVATIONS:
        for direction in DIRECTIONS:
            if (activation, direction) not in sweeps:
                continue
            values = sweeps[activation, direction]  # [layers, heads, pairs]
            norm = (values - corrupt) / gap if has_gap else np.full_like(values, np.nan)
            boot = norm @ weights.T / weights.sum(1)  # [layers, heads, resamples]
            low, high = np.percentile(boot, [2.5, 97.5], axis=-1)
            mean = norm.mean(-1)
            # Noising: (LD_clean - LD_patched) / gap, which is 1 - mean with the model's own gap.
            effect = mean if direction == "denoising" else (own_gap / gap if has_gap else np.nan) - mean
            order = (-np.nan_to_num(effect, nan=-np.inf)).ravel().argsort(kind="stable")
            rank = np.empty(order.size)
            rank[order] = np.arange(1, order.size + 1)
            rank[np.isnan(effect).ravel()] = np.nan  # a head not patched (a sample) has no rank
            for layer, head in np.ndindex(mean.shape):
                rows.append({"activation": activation, "direction": direction, "layer": layer, "head": head,
                             "normalised": mean[layer, head], "sd": norm[layer, head].std(ddof=1) if len(pairs) > 1
                             else np.nan, "ci_low": low[layer, head], "ci_high": high[layer, head],
                             "effect": effect[layer, head], "rank": rank[layer * mean.shape[1] + head],
                             "raw_mean": values[layer, head].mean()})
    table = pd.DataFrame(rows)
    table["clean_ld"], table["corrupt_ld"], table["n_pairs"] = clean.mean(), corrupt.mean(), len(pairs)
    table["n_graphs"], table["gap"] = len(groups), gap
    return table


def reference_gap(pairs: list[Pair], reference: pd.DataFrame, name: str) -> float:
    """The mean clean-corrupted gap of another model's pair table (pair_table) on the same pairs:
    a control's pairs are its model's when both read with the same tokenizer, else an error."""
    ours = pair_table(pairs, {"clean": np.zeros(len(pairs)), "corrupt": np.zeros(len(pairs))})
    keys = ["graph_id", "ordering", "node", "clean_answer", "corrupt_answer", "n_tokens"]
    if len(reference) != len(ours) or not reference[keys].astype(str).equals(ours[keys].astype(str)):
        raise ValueError(f"the patching pairs differ from {name}'s ({len(ours)} against {len(reference)} pairs): "
                         f"a control is normalised by its model's clean-corrupted gap on the same pairs; accepted: "
                         f"a control_of model with the same tokenizer and behaviour settings")
    return float(np.mean(reference["clean_ld"] - reference["corrupt_ld"]))


def pair_table(pairs: list[Pair], sweeps: dict) -> pd.DataFrame:
    """One row per pair: what was swapped, and the clean and corrupted logit differences."""
    return pd.DataFrame({
        "graph_id": [p.graph_id for p in pairs], "ordering": [p.ordering for p in pairs],
        "node": [p.node for p in pairs], "clean_answer": [p.clean_answer for p in pairs],
        "corrupt_answer": [p.corrupt_answer for p in pairs], "n_tokens": [len(p.clean_ids) for p in pairs],
        "clean_ld": sweeps["clean"], "corrupt_ld": sweeps["corrupt"],
    })


def sample_heads(n_layers: int, n_heads: int, size: int | None, seed: int) -> list[tuple[int, int]] | None:
    """``size`` heads drawn seeded (None, or at least every head: None, all of them)."""
    if size is None or size >= n_layers * n_heads:
        return None
    picked = np.random.default_rng([seed, 1]).choice(n_layers * n_heads, size=size, replace=False)
    return [(int(i // n_heads), int(i % n_heads)) for i in sorted(picked)]


def patch_table(bridge, pairs: list[Pair], batch_size: int, patch: dict, intervals: dict,
                progress: bool = True, gap: float | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """The head table of ``patch["method"]`` (``both``: exact and attribution, attribution first),
    its raw sweeps per method, and the heads patched exactly: with both and an ``exact_sample``,
    that seeded sample, where exact patching checks attribution (``sampled`` marks it), and
    attribution's top ``exact_top`` heads of each map, so that its largest effects are measured.
    ``gap``: see head_table."""
    sweep = {"exact": head_sweeps, "attribution": attribution_sweeps}
    methods = ["attribution", "exact"] if patch["method"] == "both" else [patch["method"]]
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    sample = sample_heads(n_layers, n_heads, patch["exact_sample"], patch["seed"]) if patch["method"] == "both" \
        else None
    tables, sweeps, chosen = {}, {}, {"sample": sample, "top": []}
    for method in methods:
        heads = None
        if method == "exact" and sample is not None:
            chosen["top"] = top_heads(tables["attribution"], patch["exact_top"])
            heads = sorted(set(sample) | set(chosen["top"]))
        sweeps[method] = sweep[method](bridge, pairs, batch_size, patch["activations"], progress=progress,
                                       **({"heads": heads} if heads is not None else {}))
        tables[method] = head_table(sweeps[method], pairs, intervals["resamples"], intervals["seed"], gap).assign(
            method=method)
    table = pd.concat([tables[m] for m in reversed(methods)], ignore_index=True)  # exact first, as before
    in_sample = set(sample) if sample is not None else None
    table["sampled"] = [in_sample is None or (layer, head) in in_sample
                        for layer, head in zip(table["layer"], table["head"])]
    return table, sweeps, chosen


def top_heads(table: pd.DataFrame, n: int) -> list[tuple[int, int]]:
    """The heads of rank 1 to n in any map (activation and direction) of a head table."""
    top = table[table["rank"] <= n]
    return sorted(set(zip(top["layer"].astype(int), top["head"].astype(int))))


def primary(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of exact patching where a table has both methods over every head, else those of
    attribution (exact on a sample of heads only checks it), or the table of its one method."""
    if "method" not in table or table["method"].nunique() == 1:
        return table
    exact = table[table["method"] == "exact"]
    return exact if exact["effect"].notna().all() else table[table["method"] == "attribution"]


def method_agreement(table: pd.DataFrame, heads: list[tuple[int, int]] | None = None) -> dict:
    """(activation, direction) -> Spearman correlation over heads of attribution's effects with
    exact patching's, over ``heads`` (e.g. the random sample, not the heads chosen for their
    attribution) or every head patched exactly; empty unless the table has both."""
    from scipy.stats import spearmanr

    if "method" not in table or set(table["method"]) != {"exact", "attribution"}:
        return {}
    keys = ["activation", "direction", "layer", "head"]
    both = table[table["method"] == "exact"].merge(table[table["method"] == "attribution"], on=keys,
                                                    suffixes=("_exact", "_attribution"))
    both = both[both["effect_exact"].notna()]  # exact on a sample of heads: compared there
    if heads is not None:
        keep = set(heads)
        both = both[[(layer, head) in keep for layer, head in zip(both["layer"], both["head"])]]
    return {(a, d): float(spearmanr(rows["effect_exact"], rows["effect_attribution"])[0])
            for (a, d), rows in both.groupby(["activation", "direction"], sort=False)}
