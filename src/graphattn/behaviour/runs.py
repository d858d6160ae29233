"""What the rules compute: a model's answers beside the graph-blind reader's (as text and read
from the logits), the clean/corrupted pairs of activation patching, the accuracy as more heads
are mean-ablated (top-ranked heads against random ones), and the sink sweep."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import graphs as graph_io
from .. import prompts as prompt_io
from ..heads import DIRECTIONS
from . import candidates, interventions, patching
from . import questions as question_set
from .answers import Reading, answer_text, graph_blind, read_answer, score, set_f1
from .candidates import candidate_logprobs, question_rows
from .decode import greedy_answers, left_pad, model_device, pad_id, token_ids
from .questions import Question

log = logging.getLogger(__name__)


def load_model(entry: dict):
    """The bridge of a model entry of the grid (a control gets its random weights)."""
    from ..models import load_bridge

    return load_bridge(entry["path"], entry["device"], entry["dtype"], entry["allow_download"],
                       entry["trust_remote_code"], entry["random_init"], entry["init_seed"] or 0)


def load_questions(bridge, graphs_path: str, prompts_path: str, settings: dict, split: dict, part: str = "test",
                   max_prompts: int | None = None, relabel_seed: int | None = None) -> list[Question]:
    """The questions after the ``part``-split prompts, in the model's format; ``max_prompts``
    overrides the settings' sample size when given; with ``relabel_seed``, after each graph
    relabelled (questions.relabelled), gold answers kept."""
    graphs, _ = graph_io.load(graphs_path)
    if max_prompts is not None:
        settings = {**settings, "max_prompts": max_prompts}
    return question_set.build(graphs, prompt_io.load(prompts_path), settings, split, bridge.tokenizer, part,
                              relabel_seed)


def load_reference(graphs_path: str, prompts_path: str, kinds: list[str], split: dict) -> list[tuple[str, frozenset[str]]]:
    """What the graph-blind reader learns from: the training graphs' questions and answers."""
    graphs, _ = graph_io.load(graphs_path)
    return question_set.reference_answers(graphs, prompt_io.load(prompts_path), kinds, split)


def answer(bridge, questions: list[Question], settings: dict, hooks=None, desc: str = "answers") -> list[str]:
    """The model's greedy answer to each question (settings: batch_size, max_new_tokens)."""
    return greedy_answers(bridge, [q.text for q in questions], settings["batch_size"], settings["max_new_tokens"],
                          hooks, desc=desc)


def readings(questions: list[Question], texts: list[str]) -> list[Reading]:
    return [read_answer(t, list(q.names)) for q, t in zip(questions, texts)]


def scored(questions: list[Question], texts: list[str]) -> dict:
    """score() of the answers, with the repeats counted."""
    read = readings(questions, texts)
    return score([r.names for r in read], [q.gold for q in questions], [r.repeated for r in read])


def answer_table(questions: list[Question], texts: list[str]) -> pd.DataFrame:
    """One row per question: what was asked, the gold answer, the model's and how it scores."""
    read = readings(questions, texts)
    return pd.DataFrame({
        "graph_id": [q.graph_id for q in questions],
        "ordering": [q.ordering for q in questions],
        "kind": [q.kind for q in questions],
        "node": [q.node for q in questions],
        "gold": [answer_text(q.gold) for q in questions],
        "answer": [t.strip() for t in texts],
        "unparseable": [r.names is None for r in read],
        "repeated": [r.repeated for r in read],
        "exact": [r.names == q.gold for r, q in zip(read, questions)],
        "f1": [set_f1(r.names, q.gold) for r, q in zip(read, questions)],
    })


def by_kind(questions: list[Question], texts: list[str],
            reference: list[tuple[str, frozenset[str]]] | None = None) -> list[dict]:
    """Per kind of question: accuracy, F1, unparseable answers and answers that gave a name twice
    (``repeats``, read once); with ``reference`` (question text, answer) pairs of the training
    graphs, the graph-blind reader's accuracy and F1 on the same questions."""
    rows = []
    for kind in dict.fromkeys(q.kind for q in questions):
        picked = [i for i, q in enumerate(questions) if q.kind == kind]
        asked, gold = [questions[i] for i in picked], [questions[i].gold for i in picked]
        row = {"kind": kind, **scored(asked, [texts[i] for i in picked])}
        if reference is not None:
            blind = score(graph_blind([q.question for q in asked], reference), gold)
            row |= {"graph_blind_accuracy": blind["accuracy"], "graph_blind_f1": blind["f1"]}
        rows.append(row)
    return rows


def logit_answers(bridge, questions: list[Question], relabelled: list[Question],
                  reference: list[tuple[str, frozenset[str]]], settings: dict) -> pd.DataFrame:
    """Every question's candidates scored from the logits (candidates.question_rows): the model
    after its graph and after the ``relabelled`` graph (the same questions, in the same order),
    beside the graph-blind reader and chance."""
    own = candidate_logprobs(bridge, questions, settings["batch_size"], desc="candidates")
    other = candidate_logprobs(bridge, relabelled, settings["batch_size"], desc="candidates, other graph")
    return question_rows(questions, own, other, reference)


def patching_pairs(bridge, graphs_path: str, prompts_path: str, settings: dict, split: dict, notation: str,
                   patch: dict):
    """The clean/corrupted pairs of the test prompts' parents questions (patching.make_pairs;
    ``patch``: seed, max_pairs) and the questions left out, by reason."""
    graphs, _ = graph_io.load(graphs_path)
    listed = prompt_io.load(prompts_path)
    asked = question_set.build(graphs, listed, {**settings, "kinds": ["parents"]}, split, bridge.tokenizer, "test")
    return patching.make_pairs(asked, listed, {g.id: list(g.nodes) for g in graphs}, notation, bridge.tokenizer,
                               patch["seed"], patch["max_pairs"])


def ranked_heads(scores: pd.DataFrame) -> list[tuple[int, int]]:
    """Heads from best to worst by parent accuracy (the better of the two directions, as
    head_scores reports it); ties to the lower layer, then head."""
    best = scores[[f"parent_acc_{d}" for d in DIRECTIONS]].max(axis=1).to_numpy()
    order = np.lexsort((scores["head"].to_numpy(), scores["layer"].to_numpy(), -best))
    return [(int(scores["layer"].iloc[i]), int(scores["head"].iloc[i])) for i in order]


def head_counts(n_heads: int, counts: list[int | str] | None = None) -> list[int]:
    """1, 2, 4, 8, ... and every head, or the configured counts ("all": every head)."""
    if counts is not None:
        counts = [n_heads if n == "all" else n for n in counts]
        bad = [n for n in counts if not 1 <= n <= n_heads]
        if bad:
            raise ValueError(f"behaviour.ablation.counts {bad}: the model has {n_heads} heads; accepted: 1..{n_heads} "
                             f"or all")
        return sorted(set(counts))
    powers = [2 ** i for i in range(n_heads.bit_length()) if 2 ** i < n_heads]
    return powers + [n_heads]


def random_heads(every: list[tuple[int, int]], n: int, draw: int, seed: int) -> list[tuple[int, int]]:
    """Draw ``draw`` of ``n`` random heads: seeded by (seed, n, draw), so a config gives the same draws."""
    rng = np.random.default_rng([seed, n, draw])
    return [every[i] for i in sorted(rng.choice(len(every), size=n, replace=False))]


def reference_batches(bridge, questions: list[Question], batch_size: int):
    """(ids, mask) batches of the reference questions' texts, left-padded as answering pads them,
    on the model's device."""
    rows = [token_ids(bridge.tokenizer, q.text) for q in questions]
    for start in range(0, len(rows), batch_size):
        yield tuple(t.to(model_device(bridge)) for t in left_pad(rows[start:start + batch_size], pad_id(bridge.tokenizer)))


def ablation_curve(bridge, questions: list[Question], reference: list[Question], scores: pd.DataFrame,
                   settings: dict, ablation: dict, blind: list[tuple[str, frozenset[str]]] | None = None) -> pd.DataFrame:
    """Accuracy with the top-n heads, and with n random heads (``ablation["draws"]`` seeded draws),
    mean-ablated, for each n of ``ablation["counts"]`` (None: powers of two and every head). The
    heads' means come from the ``reference`` questions; with ``blind`` (the graph-blind reader's
    training pairs) every row also has its accuracy on the same questions."""
    ranked = ranked_heads(scores)
    every = sorted(ranked)
    counts = head_counts(len(every), ablation.get("counts"))  # a bad count fails before any forward pass
    classes = interventions.token_classes(bridge.tokenizer, [n for q in questions + reference for n in q.names])
    means = interventions.head_output_means(bridge, reference_batches(bridge, reference, settings["batch_size"]),
                                            classes)
    rows = []
    answered = {}  # answers depend only on the set of heads: every head, or a draw equal to the top-n, once

    def measure(n: int, heads: str, draw: int | None, chosen: list[tuple[int, int]]) -> None:
        key = frozenset(chosen)
        if key not in answered:
            hooks = interventions.ablation_hooks(means, chosen, classes, ablation.get("ablate_special", False))
            texts = answer(bridge, questions, settings, lambda mask: hooks, desc=f"ablate {heads} {n}")
            scores = candidate_logprobs(bridge, questions, settings["batch_size"], hooks, progress=False)
            answered[key] = texts, candidates.by_kind(questions, scores)
        texts, logits = answered[key]
        for row in by_kind(questions, texts, blind):
            rows.append({"n_ablated": n, "heads": heads, "draw": draw, **row, **logits[row["kind"]],
                         "ablated": " ".join(f"L{layer}H{head}" for layer, head in chosen)})

    measure(0, "none", None, [])
    for n in counts:
        measure(n, "top", None, ranked[:n])
        for draw in range(ablation["draws"]):
            measure(n, "random", draw, random_heads(every, n, draw, ablation["seed"]))
    return pd.DataFrame(rows).astype({"draw": "Int64"})


def check_sink(tokenizer, texts: list[str], model: str) -> None:
    """Each text's first token, as answering and the dump read it (token_ids), is a special token:
    the sink that the sweep moves attention off."""
    for first in dict.fromkeys(token_ids(tokenizer, text)[0] for text in texts):
        interventions.check_sink_token(tokenizer, [first], model)


def first_prompt(prompts_path: str) -> str:
    """The text of a prompt file's first prompt (what the sink probes' dump reads, without a question)."""
    return prompt_io.PromptFile(prompts_path).read([0])[0]["text"]


def sink_sweep(bridge, questions: list[Question], settings: dict, gs: list[float], layers,
               model: str) -> pd.DataFrame:
    """Accuracy with the sink's attention scaled by each g (its mass moved to the other keys) in
    ``layers``, on the prompt pass. ``model``: how errors name the model (its name and path)."""
    n_layers = bridge.cfg.n_layers
    # A bad layer, or a first token that is no sink, fails before any answer.
    interventions.chosen_layers(layers, n_layers, model)
    if any(g != 1.0 for g in gs):
        check_sink(bridge.tokenizer, [q.text for q in questions], model)
    rows = []
    for g in gs:
        hooks = lambda mask, g=g: interventions.sink_hooks(n_layers, g, layers, mask)  # noqa: E731
        texts = answer(bridge, questions, settings, hooks, desc=f"sink g={g}")
        logits = candidates.by_kind(questions, candidate_logprobs(bridge, questions, settings["batch_size"], hooks,
                                                                  progress=False))
        rows += [{"g": g, "layers": "all" if layers == "all" else " ".join(map(str, layers)), **row,
                  **logits[row["kind"]]} for row in by_kind(questions, texts)]
    return pd.DataFrame(rows)
