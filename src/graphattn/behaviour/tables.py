"""The behaviour table: each model's answers beside its random-init control and the graph-blind
reader, with what ablating every head and moving mass off the sink do to them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

KEYS = ["model", "graph_set", "notation", "kind"]


@dataclass
class Answered:
    """One run (model, graph set, notation) with its answers' summary and its ablation curve."""
    run: dict
    summary: pd.DataFrame
    curve: pd.DataFrame


@dataclass
class Swept:
    """One run with its sink sweep's answers and its probes' F1 on the dumps under each g."""
    run: dict
    sweep: pd.DataFrame
    probes: pd.DataFrame


def behaviour_table(answered: list[Answered], swept: list[Swept], controls: dict[str, str]) -> pd.DataFrame:
    """One row per model x graph set x notation x kind of question: every ``answered`` run,
    controls included, with the sink's columns where the run was ``swept`` (not the controls).

    Columns: accuracy, f1, unparseable, n_questions, graph_blind_accuracy, control_accuracy,
    control_f1 (the model's "-random" twin on the same questions); from the ablation curve, at its
    middle count n_mid the accuracy with the top-ranked heads ablated and the mean over the random
    draws, and at its largest count n_max (every head, unless the counts stop earlier) the
    accuracy, with the graph-blind reader's on the curve's questions (curve_graph_blind_accuracy);
    the same read from the logits (top_true_*: the share of questions whose best-scored candidate
    is a true answer); accuracy_g<g> and top_true_g<g> for each g of the sink sweep and
    <probe>_f1_g<g>, the probe's test F1 (mean over seeds) on the dump taken under that g. The
    sink's columns are empty for the controls.
    """
    key = lambda run: (run["model"], run["graph_set"], run["notation"])  # noqa: E731
    sinks = {key(s.run): (s.sweep, probe_f1_columns(s.probes)) for s in swept}
    rows = []
    for a in answered:
        for row in a.summary.to_dict("records"):
            extra = ablation_columns(row["kind"], a.curve)
            if key(a.run) in sinks:
                sweep, probe_f1 = sinks[key(a.run)]
                extra |= sweep_columns(row["kind"], sweep) | probe_f1
            rows.append({**a.run, **row, **extra})
    table = pd.DataFrame(rows)
    own = table.set_index(KEYS)
    control_rows = [own.loc[(controls[m], g, n, k)] if controls.get(m) and (controls[m], g, n, k) in own.index else None
                    for m, g, n, k in own.index]
    table["control_accuracy"] = [r["accuracy"] if r is not None else float("nan") for r in control_rows]
    table["control_f1"] = [r["f1"] if r is not None else float("nan") for r in control_rows]
    first = KEYS + ["accuracy", "f1", "graph_blind_accuracy", "control_accuracy", "control_f1", "unparseable",
                    "repeats", "n_questions"]
    first = [c for c in first if c in table.columns]  # summaries written before `repeats` have none
    return table[first + [c for c in table.columns if c not in first]]


def ablation_columns(kind: str, curve: pd.DataFrame) -> dict:
    """The ablation curve's columns of one kind of question (see behaviour_table)."""
    kind_curve = curve[curve["kind"] == kind]
    counts = sorted(kind_curve.loc[kind_curve["heads"] == "top", "n_ablated"])
    mid = counts[(len(counts) - 1) // 2]
    at = kind_curve[kind_curve["n_ablated"] == mid]
    top = kind_curve[kind_curve["heads"] == "top"].set_index("n_ablated")["accuracy"]
    extra = {
        "n_mid": mid,
        "accuracy_top_mid": top[mid],
        "accuracy_random_mid": at.loc[at["heads"] == "random", "accuracy"].mean(),
        "n_max": counts[-1],
        "accuracy_top_max": top[counts[-1]],
    }
    if "top_true" in kind_curve:  # the same read from the logits (curves written before it have none)
        logit_top = kind_curve[kind_curve["heads"] == "top"].set_index("n_ablated")["top_true"]
        none = kind_curve.loc[kind_curve["heads"] == "none", "top_true"]
        extra |= {"top_true_none": none.iloc[0] if len(none) else float("nan"), "top_true_top_mid": logit_top[mid],
                  "top_true_random_mid": at.loc[at["heads"] == "random", "top_true"].mean(),
                  "top_true_top_max": logit_top[counts[-1]]}
    if "graph_blind_accuracy" in kind_curve:  # on the curve's own sample of questions
        extra["curve_graph_blind_accuracy"] = kind_curve["graph_blind_accuracy"].iloc[0]
    return extra


def sweep_columns(kind: str, sweep: pd.DataFrame) -> dict:
    """The sink sweep's columns of one kind of question (see behaviour_table)."""
    kind_sweep = sweep[sweep["kind"] == kind]
    extra = {f"accuracy_g{g:g}": a for g, a in zip(kind_sweep["g"], kind_sweep["accuracy"])}
    if "top_true" in kind_sweep:
        extra |= {f"top_true_g{g:g}": a for g, a in zip(kind_sweep["g"], kind_sweep["top_true"])}
    return extra


def probe_f1_columns(probed: pd.DataFrame) -> dict:
    """<probe>_f1_g<g>: each probe's test F1 (mean over seeds) on the dump taken under g; the same
    for every kind of question."""
    return {f"{probe}_f1_g{g:g}": f1 for (probe, g), f1 in probed.groupby(["probe", "g"], sort=False)["f1"].mean().items()}
