"""Collect every probe run's metrics.json into the ablation table."""

from __future__ import annotations

import json

import pandas as pd

from .atomic import write_text

KEYS = ["model", "graph_set", "notation", "selection", "k", "relation", "probe"]
COLUMNS = KEYS + [
    "n_seeds", "acc_mean", "acc_std", "f1_mean", "f1_std", "precision_mean", "recall_mean",
    "auroc_mean", "auprc_mean", "parent_acc_mean", "positive_rate", "not_converged",
    "control_f1_mean", "f1_over_control", "position_f1_mean", "f1_over_position",
]


def load_runs(metric_paths: list[str], runs: list[dict]) -> pd.DataFrame:
    """One row per run: its keys (model, graph_set, ..., seed) and its test metrics."""
    if len(metric_paths) != len(runs):
        raise ValueError(f"{len(metric_paths)} metrics files but {len(runs)} run descriptions")
    rows = []
    for path, run in zip(metric_paths, runs):
        with open(path) as fh:
            metrics = json.load(fh)
        rows.append({**{key: str(run[key]) for key in KEYS}, "seed": run["seed"], **metrics})
    return pd.DataFrame(rows)


def ablation_table(runs: pd.DataFrame, controls: dict[str, str] | None = None,
                   position_probe: str | None = None) -> pd.DataFrame:
    """Mean and spread over seeds, one row per model x graph set x notation x selection x k x
    relation x probe.

    ``controls`` maps a model to its random-init control: each row of the model gets the
    control's F1 on the same dataset, relation and probe, and its own F1's margin over it.
    ``position_probe`` names the position baseline (a probe that reads no attention): each
    row gets its F1 on the same dataset and relation, and the row's margin over it.
    """
    grouped = runs.groupby(KEYS, sort=True)
    table = pd.DataFrame({
        "n_seeds": grouped["seed"].nunique(),
        "acc_mean": grouped["acc"].mean(),
        # ddof=0: with one seed the spread is 0, not NaN.
        "acc_std": grouped["acc"].std(ddof=0),
        "f1_mean": grouped["f1"].mean(),
        "f1_std": grouped["f1"].std(ddof=0),
        "precision_mean": grouped["precision"].mean(),
        "recall_mean": grouped["recall"].mean(),
        "auroc_mean": grouped["auroc"].mean(),
        "auprc_mean": grouped["auprc"].mean(),
        "parent_acc_mean": grouped["parent_acc"].mean(),
        "positive_rate": grouped["positive_rate"].mean(),
        "not_converged": grouped["converged"].apply(lambda c: int((~c.astype(bool)).sum())),
    }).reset_index()
    table = with_control_f1(table, controls or {})
    table = with_position_f1(table, position_probe)
    return table[COLUMNS].round(4)


def with_control_f1(table: pd.DataFrame, controls: dict[str, str]) -> pd.DataFrame:
    """control_f1_mean: the control model's f1_mean on the row's dataset and probe (empty
    for rows without a control); f1_over_control: the row's f1_mean minus it."""
    control_f1 = table.set_index(KEYS)["f1_mean"]
    keys = table[KEYS].assign(model=table["model"].map(controls))
    table = table.assign(control_f1_mean=[control_f1.get(tuple(row), float("nan")) for row in keys.itertuples(index=False)])
    return table.assign(f1_over_control=table["f1_mean"] - table["control_f1_mean"])


def with_position_f1(table: pd.DataFrame, position_probe: str | None) -> pd.DataFrame:
    """position_f1_mean: the position baseline's f1_mean on the row's dataset and relation
    (empty without a baseline); f1_over_position: the row's f1_mean minus it."""
    if position_probe is None:
        return table.assign(position_f1_mean=float("nan"), f1_over_position=float("nan"))
    others = [key for key in KEYS if key != "probe"]
    position_f1 = table[table["probe"] == position_probe].set_index(others)["f1_mean"]
    table = table.assign(position_f1_mean=[position_f1.get(tuple(row), float("nan"))
                                           for row in table[others].itertuples(index=False)])
    return table.assign(f1_over_position=table["f1_mean"] - table["position_f1_mean"])


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Ablation table</title>
<style>
body {{ font-family: sans-serif; font-size: 13px; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }}
th {{ background: #eee; position: sticky; top: 0; }}
</style></head>
<body>
{table}
</body></html>
"""


def write(table: pd.DataFrame, csv_path: str, md_path: str, html_path: str | None = None) -> None:
    """The table as CSV (for code), Markdown (for docs and the README) and a standalone HTML page
    (for the report, which shows HTML inline but offers a CSV only as a download)."""
    write_text(csv_path, table.to_csv(index=False))
    write_text(md_path, table.to_markdown(index=False, floatfmt=".3f") + "\n")
    if html_path is not None:
        html = table.to_html(index=False, float_format="{:.3f}".format, na_rep="", border=0)
        write_text(html_path, HTML_PAGE.format(table=html))
