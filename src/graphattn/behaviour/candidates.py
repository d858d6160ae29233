"""Answers read from the next-token logits, not from greedy text.

At the answer position of "Parents of X:" every candidate answer (each node of the graph other
than X, and ``none``) is scored by the log-probability of its whole token sequence after the
question (" A", " none": the answer's first word as the model would write it), so a name of
several tokens counts whole. Per question, on the same candidates:

- ``top_true``: whether the best-scored candidate is a true answer (a parent; ``none`` when X has
  none);
- ``reciprocal_rank`` of the first true answer;
- ``auroc`` of true against false candidates;
- ``logit_diff``: the best true candidate's log-probability minus the best false one's (for
  single-token candidates, the IOI study's logit difference: the softmax's normaliser cancels).

Ties (the graph-blind reader's counts, chance) are broken at random, in expectation: a tie group
holding t of its g candidates true gives the first true answer each place with its exact
probability.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..attention import length_batches
from .decode import logits_at, model_device, pad_id, right_pad, token_ids
from .questions import Question

NONE = "none"


def candidates(question: Question) -> list[str]:
    """The answers a question can have, one word each: every other node of the graph, and none."""
    return [name for name in question.names if name != question.node] + [NONE]


def true_candidates(question: Question) -> set[str]:
    return set(question.gold) if question.gold else {NONE}


def truth(question: Question) -> np.ndarray:
    """Whether each of the question's ``candidates`` is a true answer."""
    true = true_candidates(question)
    return np.array([c in true for c in candidates(question)])


def answer_tokens(tokenizer, candidate: str) -> list[int]:
    """The tokens of a candidate as the answer's first word, after the question's colon."""
    ids = tokenizer(" " + candidate, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError(f"candidate answer {candidate!r} encodes to no token")
    return ids


def candidate_logprobs(bridge, questions: list[Question], batch_size: int, hooks=None,
                       desc: str = "candidates", progress: bool = True) -> list[np.ndarray]:
    """Per question, the log-probability of each of its ``candidates`` (in that order) after the
    question text, summed over the candidate's tokens. One forward pass per distinct token row:
    the prompt alone serves every candidate of one token; a longer candidate adds a row with its
    tokens but the last. Rows are right-padded, which is exact for a causal model (a real
    token never sees the pads after it), whatever its position encoding. ``hooks``: run every
    forward pass with these (e.g. a head ablation), or a function of each batch's attention mask
    that gives them (e.g. the sink sweep's, which needs the first token's place)."""
    tokenizer = bridge.tokenizer
    encoded: dict[str, list[int]] = {}
    rows: dict[tuple[int, ...], int] = {}  # token row -> its index
    wanted = []  # per question, per candidate: [(row, position, token), ...]
    for q in questions:
        prompt = token_ids(tokenizer, q.text)
        per_candidate = []
        for cand in candidates(q):
            tokens = encoded.setdefault(cand, answer_tokens(tokenizer, cand))
            row = tuple(prompt + tokens[:-1])
            index = rows.setdefault(row, len(rows))
            per_candidate.append([(index, len(prompt) - 1 + k, t) for k, t in enumerate(tokens)])
        wanted.append(per_candidate)

    # Only the positions read are kept: log-probabilities of the tokens asked for, per row.
    needed: dict[int, dict[int, set[int]]] = {}
    for per_candidate in wanted:
        for picks in per_candidate:
            for row, position, token in picks:
                needed.setdefault(row, {}).setdefault(position, set()).add(token)
    by_row = list(rows)
    got: dict[tuple[int, int, int], float] = {}
    pad = pad_id(tokenizer)
    with torch.inference_mode():
        for batch in tqdm(length_batches([len(r) for r in by_row], batch_size), desc=desc, unit="batch",
                          disable=not progress):
            ids, mask = (t.to(model_device(bridge)) for t in right_pad([by_row[i] for i in batch], pad))
            # Each row's read positions, padded by repeating its last: logits only where read.
            read = [sorted(needed[i]) for i in batch]
            width = max(map(len, read))
            positions = torch.tensor([r + r[-1:] * (width - len(r)) for r in read])
            with bridge.hooks(fwd_hooks=(hooks(mask) if callable(hooks) else list(hooks or []))), \
                    logits_at(bridge, positions):
                logits = bridge(ids, attention_mask=mask, return_type="logits").cpu()  # read item by item
            for b, i in enumerate(batch):
                for column, position in enumerate(read[b]):
                    logp = torch.log_softmax(logits[b, column].float(), dim=-1)
                    for token in needed[i][position]:
                        got[i, position, token] = float(logp[token])
    return [np.array([sum(got[pick] for pick in picks) for picks in per_candidate]) for per_candidate in wanted]


def first_true_rank(scores: np.ndarray, is_true: np.ndarray) -> tuple[float, float]:
    """(probability that the top candidate is true, expected reciprocal rank of the first true
    candidate), candidates ordered by score, ties in random order."""
    offset = 0
    for value in np.unique(scores)[::-1]:
        group = scores == value
        g, t = int(group.sum()), int(is_true[group].sum())
        if t:
            # P(first true at place r of the group) = C(g - r, t - 1) / C(g, t)
            places = [comb(g - r, t - 1) / comb(g, t) for r in range(1, g - t + 2)]
            top = places[0] if offset == 0 else 0.0
            return top, sum(p / (offset + r) for r, p in enumerate(places, 1))
        offset += g
    raise ValueError("no true candidate")


def auroc(scores: np.ndarray, is_true: np.ndarray) -> float:
    """P(a true candidate outscores a false one), ties counted half; NaN without both kinds."""
    pos, neg = scores[is_true], scores[~is_true]
    if not len(pos) or not len(neg):
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def rank_metrics(scores: np.ndarray, is_true: np.ndarray) -> dict:
    """The per-question figures of one reader's candidate scores."""
    top, rr = first_true_rank(scores, is_true)
    best_false = scores[~is_true].max() if (~is_true).any() else float("nan")
    return {"top_true": top, "reciprocal_rank": rr, "auroc": auroc(scores, is_true),
            "logit_diff": float(scores[is_true].max() - best_false)}


def by_kind(questions: list[Question], scores: list[np.ndarray]) -> dict[str, dict]:
    """Per kind of question, the model's mean top_true and logit_diff over its questions."""
    out = {}
    for kind in dict.fromkeys(q.kind for q in questions):
        picked = [rank_metrics(s, truth(q)) for q, s in zip(questions, scores) if q.kind == kind]
        out[kind] = {"top_true": float(np.mean([m["top_true"] for m in picked])),
                     "logit_diff": float(np.nanmean([m["logit_diff"] for m in picked]))}
    return out


def answers_by_text(reference: list[tuple[str, frozenset[str]]]) -> dict[str, list[frozenset[str]]]:
    """The reference (training) graphs' answers, grouped by question text."""
    grouped: dict[str, list[frozenset[str]]] = {}
    for text, answer in reference:
        grouped.setdefault(text, []).append(answer)
    return grouped


def blind_scores(question: Question, answers: dict[str, list[frozenset[str]]]) -> np.ndarray:
    """The graph-blind reader's score of each candidate: how often it answers the same question
    text among the reference graphs' questions (``answers_by_text``; ``none``: how often there is none)."""
    asked = answers.get(question.question, [])
    return np.array([sum(1 for a in asked if (not a if cand == NONE else cand in a)) for cand in candidates(question)],
                    dtype=float)


METRICS = ("top_true", "reciprocal_rank", "auroc", "logit_diff")


def question_rows(questions: list[Question], own: list[np.ndarray], other: list[np.ndarray],
                  reference: list[tuple[str, frozenset[str]]]) -> pd.DataFrame:
    """One row per question and reader: the model on its graph (``own`` candidate scores), the
    same model after another graph on the same nodes (``other``), the graph-blind reader (counts
    over the ``reference`` training questions) and chance (every candidate alike). The logit
    difference is a model's only."""
    rows = []
    answers = answers_by_text(reference)
    for q, own_scores, other_scores in zip(questions, own, other, strict=True):
        names, is_true = candidates(q), truth(q)
        base = {"graph_id": q.graph_id, "ordering": q.ordering, "kind": q.kind, "node": q.node,
                "gold": ", ".join(sorted(true_candidates(q))), "n_candidates": len(names)}
        readers = {"model": own_scores, "other_graph": other_scores, "graph_blind": blind_scores(q, answers),
                   "chance": np.zeros(len(names))}
        for reader, scores in readers.items():
            metrics = rank_metrics(scores, is_true)
            is_model = reader in ("model", "other_graph")
            if not is_model:
                metrics["logit_diff"] = float("nan")
            rows.append({**base, "reader": reader, "top": names[int(np.argmax(scores))] if is_model else "",
                         **metrics})
    return pd.DataFrame(rows)


def summarise(rows: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
    """Per kind of question and reader, each metric's mean over questions and its 95% interval
    over graphs (percentile bootstrap of the graphs, ``resamples`` draws; the same draws for
    every reader, so readers compare on the same resampled graphs)."""
    out = []
    for (kind, reader), part in rows.groupby(["kind", "reader"], sort=False):
        graph_ids = np.sort(part["graph_id"].unique())
        draws = np.random.default_rng(seed).integers(len(graph_ids), size=(resamples, len(graph_ids)))
        row = {"kind": kind, "reader": reader, "n_questions": len(part), "n_graphs": len(graph_ids)}
        for metric in METRICS:
            per_graph = part.groupby("graph_id")[metric].agg(["sum", "count"]).reindex(graph_ids)
            sums, counts = per_graph["sum"].to_numpy(), per_graph["count"].to_numpy()
            if counts.sum() == 0:
                row |= {metric: np.nan, f"{metric}_ci_low": np.nan, f"{metric}_ci_high": np.nan}
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                means = sums[draws].sum(1) / counts[draws].sum(1)
            low, high = np.nanpercentile(means, [2.5, 97.5])
            row |= {metric: sums.sum() / counts.sum(), f"{metric}_ci_low": low, f"{metric}_ci_high": high}
        out.append(row)
    return pd.DataFrame(out)
